import { SignJWT } from 'jose';

/** Mints an HS256 token as a trusted identity provider would; for the quick start and tests. */
export async function signDevToken(
  secret: string,
  claims: { sub: string; groups?: string[]; role?: 'operator' },
  expiresIn: string | number = '12h',
): Promise<string> {
  return new SignJWT({
    ...(claims.groups ? { groups: claims.groups } : {}),
    ...(claims.role ? { role: claims.role } : {}),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
