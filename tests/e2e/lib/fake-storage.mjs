// A fake `chrome` global with an in-memory `storage.local` (values deep-copied in and out, as the real one
// does), for tests that import extension modules without a browser. Returns the backing object.
export function installFakeChromeStorage() {
  const stored = {};
  globalThis.chrome = {
    runtime: { id: "test" },
    storage: {
      local: {
        get: async (key) => (key in stored ? { [key]: structuredClone(stored[key]) } : {}),
        set: async (items) => Object.assign(stored, structuredClone(items)),
      },
      onChanged: { addListener: () => {} },
    },
  };
  return stored;
}
