import { runServiceMain } from '@alliance/shared/feature-platform';
import { auditService } from './app.module';

if (require.main === module) runServiceMain(auditService);

export { auditService };
