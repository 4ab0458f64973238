export { DEFAULT_PINS_FILE, PIN_VERSION, pinText, pinVersion, PinsSchema, POLICY_PIN, POLICY_PINS, isPolicyPinName, policyPinOf, type PolicyPinName, PolicyPinSchema, readPins, samePin, writePins, type Pin, type Pins, type PolicyPin } from './pins.ts';
export {
  BUDGET_TIERS,
  briefJsonSchema,
  CreativeBriefSchema,
  FAMILIES,
  MOODS,
  PRODUCT_CATEGORIES,
  SEASONS,
  TARGET_PROFILES,
  type CreativeBrief,
  type ProductCategory,
} from './brief-schema.ts';
export { DownshiftController, type DownshiftLapse, type DownshiftStatus } from './downshift.ts';
export { SharedDownshifts, type ForcedEntry } from './shared-downshift.ts';
export { descriptiveTerms, localBrief, localBriefTrimmed, NOTE_LEXICON } from './local-model.ts';
export { CircuitBreaker, backoffMs, type BreakerState } from './resilience.ts';
export { chooseMode, MODE_CONFIG, MODES, RECOVER_BELOW_MS, type Mode, type ModeConfig } from './routing.ts';
export { BriefService, type BriefResult } from './service.ts';
export { LLM_SLOT_NAMES, LlmSlot, redactUrl, SlotFailure, type FailureReason, type SlotConfig, type SlotName } from './slot.ts';
export { FilePinStore, PINS_CHANNEL, PINS_KEY, pinStoreFor, RedisPinStore, type PinStore } from './pin-store.ts';
