/*
 * ctl_oauth: `mentorctl oauth authorize` and `mentorctl oauth status`.
 *
 * authorize gets the first refresh token without a browser on the server:
 * the device authorization grant (RFC 8628: a code typed in on any device)
 * where the provider allows it for mail (Microsoft), otherwise the
 * authorization code flow with PKCE (RFC 7636) and a loopback redirect
 * (RFC 8252), which works from a laptop through `ssh -L`.  The refresh token
 * goes to [oauth2] refresh_token_file (atomically, 0600).
 *
 * status refreshes once and shows the account, the scopes and the expiry.
 * Neither prints a token.
 */
#ifndef MENTORD_CTL_OAUTH_H
#define MENTORD_CTL_OAUTH_H

/* mentorctl oauth authorize [--device | --code] [--port N] | oauth status; exit status. */
int ctl_oauth(const char *config_path, int argc, char **argv);

#endif
