import { runServiceMain } from '@alliance/shared/feature-platform';
import { financeService } from './app.module';

if (require.main === module) runServiceMain(financeService);

export { financeService };
