import { randomInt } from 'node:crypto';

// Like MLflow's names for unnamed runs ("suave-fly-604"): a predicate, a noun and a number up to 999.
const PREDICATES = [
  'able', 'bold', 'brave', 'bright', 'calm', 'clever', 'crisp', 'daring', 'eager', 'fair', 'fleet', 'gentle', 'glad', 'grand',
  'happy', 'honest', 'keen', 'kind', 'lively', 'lucky', 'merry', 'mighty', 'neat', 'nimble', 'noble', 'patient', 'polite',
  'proud', 'quick', 'quiet', 'rare', 'sharp', 'shy', 'silent', 'smart', 'steady', 'sunny', 'swift', 'tidy', 'vivid', 'warm', 'wise',
];
const NOUNS = [
  'ant', 'bass', 'bear', 'bee', 'bird', 'boar', 'carp', 'cat', 'colt', 'crab', 'crow', 'deer', 'doe', 'dove', 'eel', 'elk', 'finch',
  'fly', 'fox', 'frog', 'goat', 'gull', 'hare', 'hawk', 'hen', 'heron', 'jay', 'koi', 'lark', 'lynx', 'mole', 'moth', 'newt', 'owl',
  'ox', 'panda', 'pig', 'ram', 'seal', 'shrew', 'slug', 'snail', 'steed', 'swan', 'toad', 'trout', 'vole', 'wasp', 'wolf', 'wren',
];

export function randomRunName(): string {
  return `${PREDICATES[randomInt(PREDICATES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
}
