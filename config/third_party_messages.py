"""Labels of django-q2's admin that the Japanese catalogue translates, because django-q2 ships no
Japanese messages. Django looks up every label in LOCALE_PATHS first, so listing a label here for
makemessages is enough."""

from django.utils.translation import gettext_noop

# NOTE: only the model names on the admin index are listed; django-q2's own pages stay in English.
DJANGO_Q_LABELS = (
    gettext_noop("Successful tasks"),
    gettext_noop("Failed tasks"),
    gettext_noop("Scheduled tasks"),
    gettext_noop("Queued tasks"),
)
