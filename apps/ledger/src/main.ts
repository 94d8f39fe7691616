import { runServiceMain } from '@alliance/shared/feature-platform';
import { ledgerService } from './app.module';

if (require.main === module) runServiceMain(ledgerService);

export { ledgerService };
