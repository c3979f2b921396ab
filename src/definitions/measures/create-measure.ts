import type { Field } from '../field.ts';
import { avgMeasure } from './avg-measure.ts';
import { countMeasure } from './count-measure.ts';
import { extremeMeasure } from './extreme-measure.ts';
import type { Measure, MeasureOptions, MeasureType } from './measure.ts';
import { countDistinctMeasure } from './count-distinct-measure.ts';
import { quantilesMeasure } from './quantiles-measure.ts';
import { DEFAULT_PRECISION } from './hyperloglog.ts';
import { DEFAULT_QUANTILES, DEFAULT_RELATIVE_ACCURACY, subBucketBits } from './quantile-sketch.ts';
import { sumMeasure } from './sum-measure.ts';

/** The monoid for a measure type over a field (none for `count`). */
export function createMeasure(type: MeasureType, field: Field | undefined, options: MeasureOptions = {}): Measure {
  switch (type) {
    case 'count':
      return countMeasure() as Measure;
    case 'sum':
      return sumMeasure(field!.scale) as Measure;
    case 'avg':
      return avgMeasure(field!.scale) as Measure;
    case 'min':
    case 'max':
      return extremeMeasure(type, field!) as Measure;
    case 'countDistinct':
      return countDistinctMeasure(options.precision ?? DEFAULT_PRECISION) as Measure;
    case 'quantiles':
      return quantilesMeasure(field!, options.quantiles ?? DEFAULT_QUANTILES, subBucketBits(options.relativeAccuracy ?? DEFAULT_RELATIVE_ACCURACY)) as Measure;
  }
}
