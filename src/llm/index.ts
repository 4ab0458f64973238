export { DEFAULT_PINS_FILE, PIN_VERSION, PinsSchema, readPins, writePins, type Pins } from './pins.ts';
