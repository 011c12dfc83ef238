"""Labels of Django and django-q2 that the Japanese catalogue translates, because their own catalogues
have no Japanese form for them. Django looks up every label in LOCALE_PATHS first, so listing a
label here for makemessages is enough."""

from django.utils.translation import gettext_noop

# The empty choice of select boxes (BLANK_CHOICE_LABEL in django.db.models.fields), new in Django
# 6.1 and not yet in its Japanese catalogue.
DJANGO_LABELS = (gettext_noop("- Select an option -"),)

# NOTE: only the model names on the admin index are listed; django-q2's own pages stay in English.
DJANGO_Q_LABELS = (
    gettext_noop("Successful tasks"),
    gettext_noop("Failed tasks"),
    gettext_noop("Scheduled tasks"),
    gettext_noop("Queued tasks"),
)
