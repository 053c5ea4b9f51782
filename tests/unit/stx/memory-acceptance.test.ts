// The transport acceptance suite on the in-memory pair (shared/stx/transport-acceptance.ts).
import { describe, it } from 'vitest';
import { memoryPair } from '../../../shared/stx/memory-transport.ts';
import { runTransportTests } from '../../../shared/stx/transport-acceptance.ts';

describe('transport acceptance: memory pair', () => {
  runTransportTests(it, async () => memoryPair());
});
