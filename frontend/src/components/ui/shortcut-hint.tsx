import { Box } from "@twilio-paste/core/box";
import { KeyboardKey, KeyboardKeyGroup } from "@twilio-paste/core/keyboard-key";
import { Text } from "@twilio-paste/core/text";
import { Fragment } from "react";

export interface Shortcut {
  /** As the agent presses them, e.g. ["Shift", "E"]. */
  keys: string[];
  does: string;
}

/** Announces a panel's keyboard shortcuts, e.g. "Keyboard: [A] accept · [R] reject". */
export function ShortcutHint({ shortcuts }: { shortcuts: Shortcut[] }) {
  return (
    <Box display="flex" alignItems="center" columnGap="space30" flexWrap="wrap">
      <Text as="span" color="colorTextWeak" fontSize="fontSize20">
        Keyboard:
      </Text>
      {shortcuts.map(({ keys, does }, index) => (
        <Fragment key={does}>
          {index > 0 && (
            <Text as="span" color="colorTextWeak" aria-hidden="true">
              ·
            </Text>
          )}
          <KeyboardKeyGroup>
            {keys.map((key) => (
              <KeyboardKey key={key}>{key}</KeyboardKey>
            ))}
          </KeyboardKeyGroup>
          <Text as="span" color="colorTextWeak" fontSize="fontSize20">
            {does}
          </Text>
        </Fragment>
      ))}
    </Box>
  );
}
