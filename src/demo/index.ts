/**
 * The built-in demo: shop definitions and a traffic generator.
 *
 * @module
 */
export { demoConfig } from './shop-demo-config.ts';
export { ShopGenerator, type ShopEvents, type ShopEventType, type ShopGeneratorOptions } from './shop-generator.ts';
