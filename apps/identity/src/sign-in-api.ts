import { Body, Controller, Get, HttpCode, Inject, Post, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '@alliance/shared/feature-platform';
import type { SignInService } from './sign-in';

export const SIGN_IN = Symbol('alliance.identity-sign-in');

/** Sign-in by key (docs/identity.md, Sign-in); every route answers `Cache-Control: no-store`. */
@ApiTags('sign-in')
@Public('signing in: the caller proves its key by signature')
@Controller()
export class SignInController {
  constructor(@Inject(SIGN_IN) private readonly signIn: SignInService) {}

  @Post('auth/challenges')
  @HttpCode(201)
  @ApiOperation({ summary: 'A single-use challenge for `{ organizationId, keyId }` (an admin key or an agent key in force), valid IDENTITY_CHALLENGE_TTL_SECONDS; sign its canonical bytes in domain alliance/auth-challenge/v1' })
  challenge(@Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    res.setHeader('Cache-Control', 'no-store');
    return this.signIn.challenge(body);
  }

  @Post('auth/tokens')
  @HttpCode(200)
  @ApiOperation({ summary: '`{ challengeId, signature }` → a short-lived EdDSA access token and a refresh token; the challenge is spent whatever the outcome' })
  tokens(@Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    res.setHeader('Cache-Control', 'no-store');
    return this.signIn.exchange(body);
  }

  @Post('auth/refresh')
  @HttpCode(200)
  @ApiOperation({ summary: '`{ refreshToken }` → a new pair; the key is checked again, and a refresh token used twice ends the session' })
  refresh(@Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    res.setHeader('Cache-Control', 'no-store');
    return this.signIn.refresh(body);
  }

  @Post('auth/logout')
  @HttpCode(204)
  @ApiOperation({ summary: '`{ refreshToken }` → the session ends (its access tokens lapse within their lifetime)' })
  async logout(@Body() body: unknown): Promise<void> {
    await this.signIn.logout(body);
  }

  @Get('.well-known/jwks.json')
  @ApiOperation({ summary: 'The public keys (RFC 7517 JWK Set, Ed25519) that verify Alliance access tokens' })
  jwks(@Res({ passthrough: true }) res: Response) {
    res.setHeader('Cache-Control', 'public, max-age=300');
    return this.signIn.jwks();
  }
}
