/** The shape of bench/results/latest.json. */
import type { HttpClientSummary } from './http-client';
import type { MachineInfo } from './lib/machine';

/**
 * floor and sdk: bundled as a user would (serverless.yml's esbuild options without our plugins and alias);
 * floorTuned: the same floor handler bundled with them, like ours; ours: the packaged bundle.
 */
export type VariantName = 'floor' | 'floorTuned' | 'sdk' | 'ours';
export type BaselineName = Exclude<VariantName, 'ours'>;
/**
 * Cold starts also measure the packaged createContactQueue serving an SQS batch of one valid record, and the floor with
 * the SDK secret read (floorSecret: the floor plus one GetSecretValue at init with the SDK client, built like ours), the
 * yardstick of the cold-start targets.
 */
export type ColdVariantName = VariantName | 'oursQueue' | 'floorSecret';
/** The event a cold run hands the handler: `POST /contacts` (API Gateway HTTP API) or an SQS batch of one record. */
export type Trigger = 'http' | 'queue';

export interface ColdRun {
  variant: ColdVariantName;
  round: number;
  /** spawn() to exit, seen from the parent. */
  wallMs: number;
  runnerStartMs: number;
  loadedMs: number;
  firstResponseMs: number;
  cpuToLoadedMs: number;
  cpuToResponseMs: number;
  maxRssMB: number;
  /** The handler's answer was a success: HTTP 201, or no batchItemFailures. */
  ok: boolean;
  /** What it answered otherwise. */
  detail?: string;
}

export interface WarmRun {
  variant: VariantName;
  count: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  perSecond: number;
  cpuPerInvocationUs: number;
  maxRssMB: number;
}

export interface MicroRun {
  variant: VariantName;
  calls: number;
  cpuPerCallUs: number;
  wallPerCallUs: number;
}

export interface FunctionSize {
  function: string;
  /** The packaged .mjs, minified, and gzip -9 of it. */
  bytes: number;
  gzipBytes: number;
  /** The same entry bundled again with esbuild directly (same options, metafile on): must equal `bytes`. */
  metafileBuildBytes: number;
  sameAsPackaged: boolean;
  /** Minified bytes by the metafile: the AWS SDK (its packages and what only they import) and the rest. */
  awsSdkBytes: number;
  otherBytes: number;
  /** Bundled with the AWS SDK external: our own code and its other dependencies. */
  ownAndOtherDepsBytes: number;
  ownAndOtherDepsGzipBytes: number;
  /** Minified bytes of that build by package (`(own code)` for ours). */
  ownAndOtherDepsByPackage: { pkg: string; bytes: number }[];
  awsSdkPackages: string[];
  topPackages: { pkg: string; bytes: number }[];
}

export interface VariantSummary {
  bytes: number;
  gzipBytes: number;
  coldLoadedMs: number;
  coldFirstResponseMs: number;
  coldCpuMs: number;
  coldWallMs: number;
  coldPeakRssMB: number;
  warmP50Ms: number;
  warmP99Ms: number;
  warmPerSecond: number;
  warmCpuPerInvocationUs: number;
  buildCpuPerCallUs: number;
}

/** The queue function's cold start (createContactQueue, a batch of one valid record), as packaged. */
export interface QueueColdSummary {
  function: string;
  bytes: number;
  gzipBytes: number;
  coldLoadedMs: number;
  coldFirstResponseMs: number;
  coldCpuMs: number;
  coldPeakRssMB: number;
  /** Ratio of medians, and the median of the within-round ratios, of the first response to the floor built like ours. */
  firstResponseVsFloorTuned: number;
  pairedFirstResponseVsFloorTuned: number;
  /** The same against the floor with the SDK secret read. */
  firstResponseVsFloorSecret: number;
  pairedFirstResponseVsFloorSecret: number;
}

/** The floor with the SDK secret read, cold only. */
export interface FloorSecretColdSummary {
  bytes: number;
  gzipBytes: number;
  coldLoadedMs: number;
  coldFirstResponseMs: number;
  coldCpuMs: number;
  coldPeakRssMB: number;
}

export interface TargetResult {
  figure: string;
  target: string;
  measured: number;
  met: boolean;
  unit: string;
  /** A figure shown for comparison, not a target: `met` compares it with the goal of the target row it accompanies. */
  informational?: boolean;
}

export interface BenchResults {
  machine: MachineInfo;
  /** 1-minute load average as each phase began: well above the core count means other work shared the CPUs. */
  loadAverage: { phase: string; load1: number }[];
  settings: {
    coldRuns: number;
    warmRounds: number;
    invocations: number;
    warmup: number;
    microRounds: number;
    httpRounds: number;
    nodeOptions: string;
  };
  packageMs: number;
  totalMs: number;
  sizes: FunctionSize[];
  baselineSizes: Record<BaselineName | 'floorSecret', { bytes: number; gzipBytes: number }>;
  summary: {
    perVariant: Record<VariantName, VariantSummary>;
    ratios: { vsFloor: Record<string, number>; vsFloorTuned: Record<string, number>; vsSdk: Record<string, number> };
    /** Cold first response: median over rounds of the within-round ratio. */
    pairedFirstResponse: Record<string, number>;
    queue: QueueColdSummary;
    floorSecret: FloorSecretColdSummary;
    targets: TargetResult[];
  };
  httpClient: HttpClientSummary;
  profiles: Record<string, unknown> | undefined;
  raw: { cold: ColdRun[]; warm: WarmRun[]; micro: MicroRun[] };
}
