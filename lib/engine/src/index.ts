export * from './engine.js'
export * from './events.js'
