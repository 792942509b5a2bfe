// Apple silicon: the GPU shares RAM, but macOS lets it wire only part of it. This is the ceiling the
// fit advice uses there. Sources are in ./README.md ("Apple silicon ceiling").

const MiB_PER_GiB = 1024;

/** Up to this much RAM macOS's default lets the GPU wire about 2/3 of it; above, about 3/4. */
export const APPLE_SHARE_THRESHOLD_GB = 36;
export const APPLE_SHARE_SMALL = 2 / 3;
export const APPLE_SHARE_LARGE = 3 / 4;

export interface UnifiedCeiling {
  mb: number;
  /** Where the number comes from, for the UI and logs. */
  source: 'iogpu.wired_limit_mb' | 'default share';
  share: number;
}

/**
 * The GPU's usable share of unified memory. `wiredLimitMB` is `sysctl iogpu.wired_limit_mb`
 * (0 or missing = macOS's default policy; a user who raised it gets their number, capped at RAM).
 */
export function appleGpuCeiling(ramMB: number, wiredLimitMB?: number | null): UnifiedCeiling {
  if (wiredLimitMB && wiredLimitMB > 0) {
    const mb = Math.min(Math.round(wiredLimitMB), Math.round(ramMB));
    return { mb, source: 'iogpu.wired_limit_mb', share: ramMB > 0 ? mb / ramMB : 0 };
  }
  const share = ramMB <= APPLE_SHARE_THRESHOLD_GB * MiB_PER_GiB ? APPLE_SHARE_SMALL : APPLE_SHARE_LARGE;
  return { mb: Math.round(ramMB * share), source: 'default share', share };
}
