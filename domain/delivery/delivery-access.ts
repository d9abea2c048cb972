import { isOpen, visibilityAt, type ReleaseColumns } from '../visibility';
import { regionPolicyOf, type RegionMode, type RegionPolicy } from './regions';

/** How an asset's delivery URLs are built (Cdn.deliveryUrl) and checked at the origin. */
export interface DeliveryAccess {
  /** Open to everyone now (public or unlisted, not past its unpublish instant): stable unsigned `/p/` URLs. */
  open: boolean;
  /** Bound into every signed URL; an asset with a policy never gets unsigned URLs, so the edge can enforce it. */
  regions: RegionPolicy | null;
  /** No token outlives this (the scheduled unpublish). */
  notAfter: Date | null;
}

export interface DeliveryColumns extends ReleaseColumns {
  region_mode: RegionMode | null;
  regions: string[];
}

export function deliveryAccess(row: DeliveryColumns, now = new Date()): DeliveryAccess {
  const notAfter = row.unpublish_at ? new Date(row.unpublish_at) : null;
  return {
    open: isOpen(visibilityAt(row, now)),
    regions: regionPolicyOf(row),
    notAfter,
  };
}

/** Unsigned `/p/` URLs: open and with no regional policy to enforce. */
export const servesUnsigned = (access: DeliveryAccess) => access.open && !access.regions;
