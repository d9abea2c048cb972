import type { SearchAttributeType as SdkSearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../workflows/definitions';
import type { SearchAttributeType } from './temporal';

/** The SDK's names for search attribute types, as `temporal server start-dev --search-attribute` spells them. */
const CLI_TYPE: Record<SdkSearchAttributeType, SearchAttributeType> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** Assetline's search attributes (workflows/definitions.ts), for every dev server it starts. */
export const ASSETLINE_SEARCH_ATTRIBUTES: Record<string, SearchAttributeType> = Object.fromEntries(
  SEARCH_ATTRIBUTES.map((k) => [k.name, CLI_TYPE[k.type]]),
);
