// Piper's voices: which are installed in the app's data folder (where the preset points
// `--data-dir`) and downloading one. The routes live in api/routes/voices.ts.

export {
  parseVoiceId,
  voiceUrls,
  listInstalledVoices,
  downloadVoice,
  PIPER_VOICES_URL,
} from './voices.js';
