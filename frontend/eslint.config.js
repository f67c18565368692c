import { readdirSync } from "node:fs";

import js from "@eslint/js";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import importX from "eslint-plugin-import-x";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

const features = readdirSync(new URL("./src/features", import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

// Layers: app composes features; features use the shared code; shared code depends on no feature.
const layerZones = [
  ...features.map((feature) => ({
    target: `./src/features/${feature}`,
    from: "./src/features",
    except: [`./${feature}`],
    message: "Features never import each other: compose them in src/app.",
  })),
  {
    target: ["./src/features", "./src/lib", "./src/components", "./src/config", "./src/types"],
    from: "./src/app",
    message: "Only the app shell imports from src/app.",
  },
  {
    target: ["./src/lib", "./src/components", "./src/config", "./src/types"],
    from: "./src/features",
    message: "Shared code must not depend on a feature.",
  },
];

const testFiles = ["src/**/*.test.{ts,tsx}", "src/testing/**"];

export default tseslint.config(
  { ignores: ["dist", "src/types/api.gen.ts"] },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    files: ["src/**/*.{ts,tsx}"],
    extends: [reactHooks.configs.flat["recommended-latest"]],
    plugins: { "import-x": importX },
    languageOptions: { globals: globals.browser },
    settings: { "import-x/resolver-next": [createTypeScriptImportResolver()] },
    rules: {
      "import-x/no-restricted-paths": ["error", { zones: layerZones }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "@typescript-eslint/no-confusing-void-expression": ["error", { ignoreArrowShorthand: true }],
    },
  },
  {
    files: ["src/**/*.{ts,tsx}"],
    ignores: testFiles,
    rules: {
      "import-x/no-restricted-paths": [
        "error",
        {
          zones: [
            ...layerZones,
            { target: "./src", from: "./src/testing", message: "Only tests use src/testing." },
          ],
        },
      ],
    },
  },
  {
    files: testFiles,
    rules: {
      // Tests assert on values they have just checked exist.
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  {
    files: ["*.{js,ts}", "scripts/**"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
);
