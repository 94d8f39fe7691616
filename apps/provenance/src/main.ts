import { runServiceMain } from '@alliance/shared/feature-platform';
import { provenanceService } from './app.module';

if (require.main === module) runServiceMain(provenanceService);

export { provenanceService };
