// electron-builder.yml against electron-builder's own schema (its loader and validator, so what
// `npm run dist` would refuse fails here first), plus what the product needs from the installers:
// per-user NSIS with firewall rules, DMG for both Macs with the local-network keys, AppImage,
// hardened fuses, and the icons each platform expects.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/headless.js';
import { PRESETS } from '../../main/core/services/presets.js';
import { defaultSettings } from '../../main/core/settings/schema.js';

const require = createRequire(import.meta.url);
/** The parts of the loaded configuration this file looks at. */
interface BuilderConfig {
  win: { target: unknown; icon: string; extraResources: unknown[] };
  nsis: Record<string, unknown> & { include: string };
  mac: {
    target: unknown;
    identity: string;
    icon: string;
    extendInfo: Record<string, unknown> & { NSLocalNetworkUsageDescription: string };
  };
  linux: { target: unknown; icon: string };
  extraResources: unknown[];
  electronFuses: Record<string, boolean>;
}
const { getConfig, validateConfiguration } =
  require('app-builder-lib/out/util/config/config.js') as {
    getConfig(
      projectDir: string,
      configPath: string | null,
      fromOptions: unknown,
    ): Promise<BuilderConfig>;
    validateConfiguration(
      config: unknown,
      debug: { isEnabled: boolean; add(): void },
    ): Promise<void>;
  };
const noDebug = { isEnabled: false, add() {} };

describe('electron-builder.yml', () => {
  let cfg: BuilderConfig;
  beforeAll(async () => {
    cfg = await getConfig(repoRoot, null, null);
  });

  it('passes electron-builder’s own schema, which does refuse a wrong key', async () => {
    await expect(validateConfiguration(cfg, noDebug)).resolves.toBeUndefined();
    await expect(
      validateConfiguration({ ...cfg, nsis: { ...cfg.nsis, perMachin: false } }, noDebug),
    ).rejects.toThrow(/configuration\.nsis/);
    await expect(
      validateConfiguration({ ...cfg, mac: { ...cfg.mac, target: 42 } }, noDebug),
    ).rejects.toThrow();
  });

  it('builds a per-user NSIS installer with the firewall include', () => {
    expect(cfg.win.target).toEqual([{ target: 'nsis', arch: ['x64'] }]);
    // Per-user, no all-users/only-me page: only a one-click installer has both (perMachine's docs).
    expect(cfg.nsis).toMatchObject({
      oneClick: true,
      perMachine: false,
      include: 'build/installer.nsh',
    });
    // Assisted-installer-only options would do nothing in a one-click installer: keep none.
    for (const k of [
      'allowElevation',
      'allowToChangeInstallationDirectory',
      'selectPerMachineByDefault',
    ])
      expect(cfg.nsis).not.toHaveProperty(k);
    expect(fs.existsSync(path.join(repoRoot, cfg.nsis.include))).toBe(true);
    expect(cfg.win.extraResources).toContainEqual({
      from: 'build/firewall-rules.cmd',
      to: 'firewall-rules.cmd',
    });
  });

  it('builds an ad-hoc signed DMG for Apple silicon and Intel with the local-network keys', () => {
    expect(cfg.mac.target).toEqual([{ target: 'dmg', arch: ['arm64', 'x64'] }]);
    expect(cfg.mac.identity).toBe('-');
    expect(cfg.mac.extendInfo.LSUIElement).toBe(true);
    expect(cfg.mac.extendInfo.NSLocalNetworkUsageDescription).toMatch(/local network/);
    expect(cfg.mac.extendInfo.NSBonjourServices).toEqual(['_unamentis._tcp']);
  });

  it('builds an AppImage and ships the tray icons', () => {
    expect(cfg.linux.target).toEqual(['AppImage']);
    expect(cfg.extraResources).toContainEqual({ from: 'resources/tray', to: 'tray' });
    for (const icon of [cfg.win.icon, cfg.mac.icon, cfg.linux.icon])
      expect(fs.existsSync(path.join(repoRoot, icon))).toBe(true);
  });

  it('hardens release binaries with fuses, runAsNode off', () => {
    expect(cfg.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
    // runAsNode can be off only because the app never runs its binary as Node: the shell gives the
    // core a utilityProcess launcher for the GPU inventory child.
    expect(fs.readFileSync(path.join(repoRoot, 'main/shell/main.ts'), 'utf8')).toContain(
      'gpuInventoryLauncher: utilityInventoryLauncher(',
    );
  });
});

describe('Windows firewall rules', () => {
  const script = fs.readFileSync(path.join(repoRoot, 'build/firewall-rules.cmd'), 'utf8');
  const section = (label: string) =>
    script.split(/\r?\n/).slice(script.split(/\r?\n/).indexOf(`:${label}`));
  const rules = (lines: string[], verb: 'add' | 'delete') =>
    lines
      .filter((l) => l.startsWith(`netsh advfirewall firewall ${verb} rule`))
      .map((l) => /name="([^"]+)"/.exec(l)![1]!);

  it('opens the control port and every preset service port, LAN only, and removes exactly what it added', () => {
    const added = section('add').filter((l) => l.startsWith('netsh advfirewall firewall add rule'));
    const ports = [
      defaultSettings({ platform: 'win32', hostname: 'pc' }, { hostId: 'x', token: 'y' }).api.port,
      ...PRESETS.map((p) => p.port),
    ];
    for (const port of ports)
      expect(added.some((l) => l.includes(`protocol=TCP localport=${port} `))).toBe(true);
    for (const l of added) expect(l).toMatch(/profile=private,domain remoteip=localsubnet$/);
    expect(added.some((l) => l.includes('program="%~2"'))).toBe(true);
    expect(rules(section('remove'), 'delete').sort()).toEqual(rules(section('add'), 'add').sort());
    expect(script).toContain('\r\n'); // cmd.exe wants CRLF
  });

  it('the NSIS include runs the script elevated on install and uninstall, never on an update', () => {
    const nsh = fs.readFileSync(path.join(repoRoot, 'build/installer.nsh'), 'utf8');
    expect(nsh).toMatch(
      /!macro customInstall[\s\S]*\$\{ifNot\} \$\{isUpdated\}[\s\S]*ExecShellWait "runas"[\s\S]*firewall-rules\.cmd" add[\s\S]*!macroend/,
    );
    expect(nsh).toMatch(
      /!macro customUnInstall[\s\S]*\$\{ifNot\} \$\{isUpdated\}[\s\S]*ExecShellWait "runas"[\s\S]*firewall-rules\.cmd" remove[\s\S]*!macroend/,
    );
    // The probe names a rule the script really adds.
    const probe = /show rule name="([^"]+)"/.exec(nsh)![1];
    expect(rules(section('add'), 'add')).toContain(probe);
  });

  const makensis = spawnSync('makensis', ['-VERSION'], { encoding: 'utf8' });
  const noNsis = makensis.error ? 'makensis not installed (apt-get install nsis)' : null;
  if (noNsis) console.warn(`SKIPPED NSIS compile check: ${noNsis}`);
  it.skipIf(!!noNsis)(
    'the NSIS include compiles (makensis, with electron-builder’s names stubbed)',
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsis-'));
      const nsi = path.join(dir, 'check.nsi');
      fs.writeFileSync(
        nsi,
        [
          'Unicode true',
          '!include LogicLib.nsh',
          '!define APP_EXECUTABLE_FILENAME "UnaMentis Server.exe"',
          '; electron-builder defines isUpdated (the --updated switch); here it is always false.',
          '!macro _isUpdated _a _b _t _f',
          '  StrCmp "" "x" `${_t}` `${_f}`',
          '!macroend',
          '!define isUpdated `"" isUpdated ""`',
          `!include "${path.join(repoRoot, 'build/installer.nsh')}"`,
          `OutFile "${path.join(dir, 'check.exe')}"`,
          'RequestExecutionLevel user',
          'InstallDir "$LOCALAPPDATA\\Programs\\UnaMentis Server"',
          'Section "Install"',
          '  !insertmacro customInstall',
          '  WriteUninstaller "$INSTDIR\\uninstall.exe"',
          'SectionEnd',
          'Section "Uninstall"',
          '  !insertmacro customUnInstall',
          'SectionEnd',
          '',
        ].join('\n'),
      );
      const r = spawnSync('makensis', ['-V2', '-WX', nsi], { encoding: 'utf8' });
      fs.rmSync(dir, { recursive: true, force: true });
      expect(r.stdout + r.stderr, 'makensis output').not.toMatch(/error/i);
      expect(r.status).toBe(0);
    },
  );
});

describe('icons', () => {
  const res = path.join(repoRoot, 'resources');
  const pngSize = (file: string) => {
    const b = fs.readFileSync(file);
    expect(b.subarray(1, 4).toString('ascii')).toBe('PNG');
    return [b.readUInt32BE(16), b.readUInt32BE(20)];
  };
  const icoSizes = (file: string) => {
    const b = fs.readFileSync(file);
    expect(b.readUInt16LE(2)).toBe(1); // type 1 = icon
    return Array.from({ length: b.readUInt16LE(4) }, (_, i) => b[6 + i * 16] || 256);
  };

  it('has a macOS template pair and a Windows .ico (16/20/24/32 px) for every tray state', () => {
    for (const state of ['serving', 'active', 'cool', 'dormant', 'error', 'paused']) {
      expect(pngSize(path.join(res, 'tray', `${state}Template.png`))).toEqual([16, 16]);
      expect(pngSize(path.join(res, 'tray', `${state}Template@2x.png`))).toEqual([32, 32]);
      expect(icoSizes(path.join(res, 'tray', `${state}.ico`))).toEqual([16, 20, 24, 32]);
      expect(pngSize(path.join(res, 'tray', `${state}.png`))).toEqual([32, 32]);
    }
  });

  it('has app icons big enough for the installers (512 px PNG, 256 px in the .ico)', () => {
    expect(pngSize(path.join(res, 'icon.png'))).toEqual([512, 512]);
    expect(icoSizes(path.join(res, 'icon.ico'))).toContain(256);
  });
});
