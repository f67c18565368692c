/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Origin of the backend when the console is served from elsewhere; empty means same origin. */
  readonly VITE_API_BASE_URL?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
