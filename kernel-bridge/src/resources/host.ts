// What this machine offers tasks: its GPUs, an MPI launcher, mpi4py in a given Python. Each is probed
// once (per Python for mpi4py) and remembered; nothing here runs per task.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';

export interface GpuFacts {
  /** CUDA_VISIBLE_DEVICES tokens of the GPUs tasks may use. */
  devices: string[];
  /** How they were found, for messages: "2 found by nvidia-smi -L", "nvidia-smi is not on PATH". */
  source: string;
}

interface ListedGpu {
  index: string;
  uuid: string | null;
}

/** `nvidia-smi -L` lines: "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-5f1c…)". */
export function parseNvidiaSmi(output: string): ListedGpu[] {
  const gpus: ListedGpu[] = [];
  for (const line of output.split('\n')) {
    const match = /^GPU (\d+):.*?(?:\(UUID: ([^)]+)\))?\s*$/.exec(line.trim());
    if (match) gpus.push({ index: match[1], uuid: match[2] ?? null });
  }
  return gpus;
}

/**
 * The devices tasks may use: all listed ones, or those CUDA_VISIBLE_DEVICES (set for the bridge, e.g. by
 * a batch system) names by index or UUID. Its tokens are kept as written, since they are what the
 * workers' CUDA_VISIBLE_DEVICES must contain to mean the same devices.
 */
export function visibleGpus(listed: ListedGpu[], cudaVisibleDevices: string | undefined): string[] {
  if (cudaVisibleDevices === undefined) return listed.map(gpu => gpu.index);
  const tokens = cudaVisibleDevices.split(',').map(t => t.trim()).filter(Boolean);
  return tokens.filter(token => listed.some(gpu => gpu.index === token || (gpu.uuid !== null && gpu.uuid.startsWith(token))));
}

export async function detectGpus(env: NodeJS.ProcessEnv = process.env): Promise<GpuFacts> {
  const smi = findOnPath('nvidia-smi', env.PATH);
  if (!smi) return { devices: [], source: 'nvidia-smi is not on PATH' };
  const result = await execa(smi, ['-L'], { reject: false, timeout: 10_000, stdin: 'ignore' });
  if (result.exitCode !== 0) {
    return { devices: [], source: `\`nvidia-smi -L\` failed: ${String(result.stderr || result.shortMessage).trim().split('\n')[0]}` };
  }
  const listed = parseNvidiaSmi(String(result.stdout));
  const devices = visibleGpus(listed, env.CUDA_VISIBLE_DEVICES);
  const filtered = env.CUDA_VISIBLE_DEVICES !== undefined ? ` and CUDA_VISIBLE_DEVICES=${JSON.stringify(env.CUDA_VISIBLE_DEVICES)}` : '';
  return { devices, source: `${listed.length} listed by nvidia-smi -L${filtered}` };
}

export function findOnPath(name: string, path: string | undefined): string | null {
  for (const folder of (path ?? '').split(delimiter)) {
    if (!folder) continue;
    const candidate = join(folder, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return null;
}

export class HostProbe {
  gpus: GpuFacts = { devices: [], source: 'GPUs not detected yet' };
  private mpiexecPath: string | null | undefined;
  private readonly mpi4py = new Map<string, Promise<string | null>>();

  async detectGpus(): Promise<GpuFacts> {
    this.gpus = await detectGpus();
    return this.gpus;
  }

  /** Where mpiexec is, or null; looked up once. */
  mpiexec(): string | null {
    if (this.mpiexecPath === undefined) this.mpiexecPath = findOnPath('mpiexec', process.env.PATH);
    return this.mpiexecPath;
  }

  /** Why `python` cannot import mpi4py (the end of its error), or null when it can; once per python. */
  mpi4pyProblem(python: string, env: Record<string, string>): Promise<string | null> {
    let check = this.mpi4py.get(python);
    if (!check) {
      check = execa(python, ['-c', 'import mpi4py'], { reject: false, env, stdin: 'ignore', timeout: 60_000 }).then(result => {
        if (result.exitCode === 0) return null;
        const lines = String(result.stderr || result.shortMessage).trim().split('\n');
        return lines[lines.length - 1];
      });
      this.mpi4py.set(python, check);
    }
    return check;
  }
}
