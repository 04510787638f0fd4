"""Sign-in through the organisation's directory: LDAP (ldap3) and OpenID Connect (Authlib,
joserfc), and the mapping of directory groups to roles and units (config/directory.yaml)."""
