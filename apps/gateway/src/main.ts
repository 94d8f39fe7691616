import { runServiceMain } from '@alliance/shared/feature-platform';
import { gatewayService } from './app.module';

if (require.main === module) runServiceMain(gatewayService);

export { gatewayService };
