// Entry of the consumer thread: TypeScript loading (tsx) is registered per thread, then the
// consumer loop (consumer-worker.ts) starts.
import { register } from 'tsx/esm/api';

register();
await import('./consumer-worker.ts');
