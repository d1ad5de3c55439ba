// The GPUs of this machine that tasks may use, handed out so that concurrently running tasks never share
// one: a task takes cores × gpus_per_core devices when it starts and gives them back when it ends.
import { EventEmitter } from 'node:events';

export class GpuPool extends EventEmitter<{ released: [] }> {
  private devices: string[] = [];
  private free: string[] = [];

  constructor(devices: string[] = []) {
    super();
    this.reset(devices);
  }

  /** Set what exists (after detection); nothing may be taken at that moment. */
  reset(devices: string[]): void {
    this.devices = [...devices];
    this.free = [...devices];
  }

  get total(): number {
    return this.devices.length;
  }

  get available(): number {
    return this.free.length;
  }

  /** Take n devices; the caller checked `available` first. */
  take(n: number): string[] {
    if (n > this.free.length) throw new Error(`asked for ${n} GPUs while ${this.free.length} are free`);
    return this.free.splice(0, n);
  }

  /** Give devices back; 'released' tells whoever waits for GPUs to look again. */
  give(devices: string[]): void {
    if (devices.length === 0) return;
    for (const device of devices) if (this.devices.includes(device) && !this.free.includes(device)) this.free.push(device);
    this.free.sort((a, b) => this.devices.indexOf(a) - this.devices.indexOf(b));
    this.emit('released');
  }
}
