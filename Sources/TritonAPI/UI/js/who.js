// The caller as the server sees it (GET /api/v1/whoami): {user, roles, open}; null before sign-in.

export const who = { me: null };

/** Whether the caller has `role` (admins have every role; everyone may view). */
export const can = (role) => !!who.me && (role === 'viewer' || who.me.roles.includes('admin') || who.me.roles.includes(role));
