// Apple silicon: the GPU shares RAM, but macOS lets it wire only part of it. This is the ceiling the
// fit advice uses there. Sources are in ./README.md ("Apple silicon ceiling").

const MiB_PER_GiB = 1024;

/** Up to this much RAM macOS's default lets the GPU wire about 2/3 of it; above, about 3/4. */
const APPLE_SHARE_THRESHOLD_GB = 36;
const APPLE_SHARE_SMALL = 2 / 3;
const APPLE_SHARE_LARGE = 3 / 4;

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
  const share =
    ramMB <= APPLE_SHARE_THRESHOLD_GB * MiB_PER_GiB ? APPLE_SHARE_SMALL : APPLE_SHARE_LARGE;
  return { mb: Math.round(ramMB * share), source: 'default share', share };
}

/**
 * What Metal itself says the GPU may use, as Ollama logs it when it starts (it asks Metal's
 * `recommendedMaxWorkingSetSize`; the desktop app reads the same line, app/server/server.go
 * `GetInferenceComputer`): `msg="inference compute" ... library=Metal ... total="96.0 GiB"`.
 * Newer macOS lets the GPU wire more than the 3/4 rule (about 84 % of 128 GB on macOS 26), so this
 * beats the rule where it is known. Null for any other line or library.
 */
export function metalTotalFromLog(line: string): number | null {
  if (!line.includes('msg="inference compute"') || !/library=metal\b/i.test(line)) return null;
  const m = /\btotal="(\d+(?:\.\d+)?) (GiB|MiB|GB|MB)"/.exec(line);
  if (!m) return null;
  const n = Number(m[1]);
  const mb =
    m[2] === 'GiB'
      ? n * 1024
      : m[2] === 'GB'
        ? (n * 1e9) / 1048576
        : m[2] === 'MB'
          ? (n * 1e6) / 1048576
          : n;
  return mb > 0 ? Math.round(mb) : null;
}
