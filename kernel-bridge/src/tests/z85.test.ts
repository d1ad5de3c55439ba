import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z85Encode } from '../transport/z85.js';

test('z85 matches the RFC 32 test vector', () => {
  assert.equal(z85Encode(Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b])), 'HelloWorld');
});

test('z85 refuses lengths that are not a multiple of four', () => {
  assert.throws(() => z85Encode(new Uint8Array(3)), /multiple of 4/);
});
