import { runServiceMain } from '@alliance/shared/feature-platform';
import { identityService } from './app.module';

if (require.main === module) runServiceMain(identityService);

export { identityService };
