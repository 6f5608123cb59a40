// Types of the host's native-messaging protocol (docs/protocol.md). They are GENERATED from the Rust protocol
// types (core/src/protocol/) into protocol.gen.ts, which a Rust test keeps in step with them; this file only
// re-exports them, with the extension's own names where they differ.
import type { VerdictAction } from "./protocol.gen";

export * from "./protocol.gen";

/** What happens to a post (`show` when no rule fired). */
export type Action = VerdictAction;
