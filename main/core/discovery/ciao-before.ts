// Evaluated just before @homebridge/ciao (see ciao.ts): the stack formatter the process had until then.

export const prepareStackTraceBeforeCiao = Error.prepareStackTrace;
