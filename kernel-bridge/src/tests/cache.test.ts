// The cache store with real files: h5wasm in its worker thread, executorlib's layout, atomic writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheStore, ATTRIBUTES } from '../cache/store.js';
import { pickleFloat, unpickleNumber } from '../cache/pickle.js';

const PYTHON = '/usr/bin/python3';
const inputs = {
  function: Buffer.from('fn'),
  inputArgs: Buffer.from('args'),
  inputKwargs: Buffer.from('kwargs'),
  resourceDict: Buffer.from('rd')
};

function python(code: string, ...args: string[]): string {
  return execFileSync(PYTHON, ['-c', code, ...args], { encoding: 'utf8' }).trim();
}

test('pickled numbers: the float written loads in Python; floats and ints Python wrote are read', () => {
  assert.equal(python('import pickle,sys; print(pickle.loads(bytes.fromhex(sys.argv[1])))', Buffer.from(pickleFloat(0.125)).toString('hex')), '0.125');
  const pickles = JSON.parse(
    python('import cloudpickle,json; print(json.dumps([cloudpickle.dumps(v).hex() for v in (2.5, 7, 300, 70000, -5, 2**40, "x")]))')
  ) as string[];
  assert.deepEqual(pickles.map(hex => unpickleNumber(Buffer.from(hex, 'hex'))), [2.5, 7, 300, 70000, -5, 2 ** 40, null]);
});

test('a stored result is found again, and h5py reads the file as executorlib does', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'cache-test-'));
  const store = new CacheStore(() => {});
  try {
    const ref = { directory: join(directory, 'new-folder'), key: 'f0123' };
    assert.equal(await store.lookup(ref), null);
    const result = Buffer.from(python('import cloudpickle; print(cloudpickle.dumps([1, 2, 3]).hex())'), 'hex');
    // No await between store and lookup: the lookup waits for the write of its key.
    void store.store(ref, 'f', inputs, result, 1.5, '[1, 2, 3]');
    const hit = await store.lookup(ref);
    assert.deepEqual(hit && [hit.result.equals(result), hit.runtime], [true, 1.5]);
    const seen = JSON.parse(
      python(
        `import h5py, cloudpickle, json, sys
with h5py.File(sys.argv[1]) as f:
    print(json.dumps({"keys": sorted(f.keys()), "output": cloudpickle.loads(f["output"][()].tobytes()),
      "runtime": cloudpickle.loads(f["runtime"][()].tobytes()), "gzip": all(f[k].compression == "gzip" for k in f),
      "dtype": sorted({str(f[k].dtype) for k in f}), "attrs": {k: (v if isinstance(v, str) else float(v)) for k, v in f.attrs.items()}}))`,
        store.outputPath(ref)
      )
    );
    assert.deepEqual(seen.keys, ['function', 'input_args', 'input_kwargs', 'output', 'resource_dict', 'runtime']);
    assert.deepEqual([seen.output, seen.runtime, seen.gzip, seen.dtype], [[1, 2, 3], 1.5, true, ['uint8']]);
    assert.equal(seen.attrs[ATTRIBUTES.function], 'f');
    assert.equal(seen.attrs[ATTRIBUTES.result], '[1, 2, 3]');
    assert.equal(seen.attrs[ATTRIBUTES.size], result.length);
    const summary = await store.files.summary(store.outputPath(ref));
    assert.equal(summary.datasets.output, result.length);
    assert.equal(unpickleNumber(summary.small.runtime), 1.5);
  } finally {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  }
});

test('a write that fails leaves neither a file under the final name nor a temporary one', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'cache-test-'));
  const lines: string[] = [];
  const store = new CacheStore(line => lines.push(line));
  try {
    // A dataset name HDF5 refuses, after others were written into the temporary file.
    await store.files
      .write(join(directory, 'k_o.h5'), { output: new Uint8Array([1]), 'bad/../': new Uint8Array([2]) }, {})
      .then(() => assert.fail('the write should have failed'), () => {});
    assert.deepEqual(readdirSync(directory), []);
  } finally {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  }
});
