import type { Field } from '../field.ts';
import { avgMeasure } from './avg-measure.ts';
import { countMeasure } from './count-measure.ts';
import { extremeMeasure } from './extreme-measure.ts';
import type { Measure, MeasureType } from './measure.ts';
import { sumMeasure } from './sum-measure.ts';

/** The monoid for a measure type over a field (none for `count`). */
export function createMeasure(type: MeasureType, field: Field | undefined): Measure {
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
  }
}
