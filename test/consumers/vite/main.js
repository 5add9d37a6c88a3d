import * as otr from 'otr4';
import { runPublicKat } from '../kat.js';

await runPublicKat(otr, 'vite');
