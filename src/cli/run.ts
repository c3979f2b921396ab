/** Entry point of the `tandem` binary. */
import { main } from './main.ts';

await main(process.argv);
