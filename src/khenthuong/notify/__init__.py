"""E-mail for reminders and notifications: settings, pure rendering, SMTP/maildir delivery."""
