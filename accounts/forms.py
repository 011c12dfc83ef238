from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.translation import gettext_lazy as _

from accounts.models import Person, SaaSAccount

# Enough for about 50,000 people; the file is read into memory whole.
PEOPLE_IMPORT_MAX_BYTES = 5 * 1024 * 1024


class PeopleImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: email,name,kind,status,left_on. Kind is employee or guest; status is active, "
            "on_leave or left; left_on is a date such as 2026-03-31. UTF-8 (with or without BOM) "
            "and Shift_JIS files are accepted."
        ),
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > PEOPLE_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)s bytes: split it into files of at most %(max)s bytes and import each."),
                code="too_large",
                params={"size": file.size, "max": PEOPLE_IMPORT_MAX_BYTES},
            )
        return file


class PersonAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget, which also renders a posted value that is not a primary key.

    Django's widget looks the posted value up to show the chosen option, and a value such as
    "abc" makes that lookup raise ValueError, so the page failed instead of showing the field's
    "Select a valid choice" error.
    """

    def optgroups(self, name, value, attrs=None):
        return super().optgroups(name, [item for item in value if str(item).isdigit() and str(item).isascii()], attrs)


class MergeTargetForm(forms.Form):
    """The person to merge accounts into: an existing one, or a new email and name."""

    person = forms.ModelChoiceField(
        label=_("Existing person"),
        queryset=Person.objects.all(),
        required=False,
        help_text=_("Type part of an email or name to search the directory."),
    )
    new_email = forms.EmailField(
        label=_("Or a new person's email"), max_length=Person._meta.get_field("email").max_length, required=False
    )
    new_name = forms.CharField(label=_("New person's name"), max_length=200, required=False)
    new_kind = forms.ChoiceField(
        label=_("New person's kind"),
        choices=Person.Kind.choices,
        initial=Person.Kind.EMPLOYEE,
        required=False,
    )

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["person"]
        field.widget = PersonAutocompleteSelect(SaaSAccount._meta.get_field("person"), admin_site)
        field.widget.choices = field.choices

    def clean(self):
        cleaned = super().clean()
        person = cleaned.get("person")
        new_email = (cleaned.get("new_email") or "").strip().lower()
        if person and new_email:
            raise forms.ValidationError(_("Choose an existing person or enter a new email, not both."), code="both")
        if not person and not new_email and not self.has_error("new_email"):
            raise forms.ValidationError(
                _("Choose an existing person or enter the email of a new person."), code="missing"
            )
        cleaned["new_email"] = new_email
        return cleaned

    def target_person(self) -> tuple[Person, bool]:
        """Return the chosen person and whether it is new (not saved yet)."""
        if self.cleaned_data.get("person"):
            return self.cleaned_data["person"], False
        email = self.cleaned_data["new_email"]
        existing = Person.objects.filter(email__iexact=email).first()
        if existing is not None:
            return existing, False
        person = Person(
            email=email,
            name=self.cleaned_data.get("new_name", "").strip(),
            kind=self.cleaned_data.get("new_kind") or Person.Kind.EMPLOYEE,
        )
        return person, True
