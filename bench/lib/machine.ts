/** The machine a run happened on, for the results table. */
import { execFileSync } from 'node:child_process';
import { cpus, platform, release, totalmem } from 'node:os';
import { NODE } from './proc';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGB: number;
  os: string;
  node: string;
  date: string;
}

export const machineInfo = (): MachineInfo => ({
  cpu: cpus()[0]?.model.trim() ?? 'unknown',
  cores: cpus().length,
  memoryGB: Math.round(totalmem() / 1024 ** 3),
  os: `${platform()} ${release()}`,
  node: execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim(),
  date: new Date().toISOString(),
});
