"""Forms of the AWS integration admin: the setup page and the Settings tab share their fields."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.connectors.aws.connection import parse_role_arn
from integrations.models import Integration
from integrations.services.connection import RECOMMENDED_EXTERNAL_ID_LENGTH

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
EXTERNAL_ID_RE = re.compile(r"[A-Za-z0-9+=,.@:/_-]+")
EXTERNAL_ID_MIN_LENGTH = 2
EXTERNAL_ID_MAX_LENGTH = 1224
ROLE_NAME_RE = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}")
ARN_EXAMPLE = "arn:aws:iam::123456789012:role/RollcallAccess"


def role_arn_error(value: str) -> str | None:
    """Return what is wrong with a role ARN, or None when it is the ARN of an IAM role."""
    if parse_role_arn(value) is not None:
        return None
    parts = value.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return _("This is not an ARN. A role ARN looks like %(example)s.") % {"example": ARN_EXAMPLE}

    _arn, partition, service, region, account_id, resource = parts
    if partition not in PARTITIONS:
        return _("The partition “%(partition)s” is not supported: use aws, aws-cn or aws-us-gov.") % {
            "partition": partition
        }
    if service != "iam":
        return _("This ARN belongs to the service “%(service)s”; enter the ARN of an IAM role (%(example)s).") % {
            "service": service,
            "example": ARN_EXAMPLE,
        }
    if region:
        return _("An IAM role ARN has no region, but this one has “%(region)s”.") % {"region": region}

    if not re.fullmatch(r"\d{12}", account_id):
        return _("The AWS account ID “%(account_id)s” is invalid: it must be exactly 12 digits.") % {
            "account_id": account_id
        }
    kind, _slash, rest = resource.partition("/")
    if kind != "role" or not rest:
        return _("This ARN names “%(kind)s”, not an IAM role: it must contain :role/ followed by the role name.") % {
            "kind": kind
        }
    role_name = rest.rsplit("/", 1)[-1]
    if not ROLE_NAME_RE.fullmatch(role_name):
        return _("The role name “%(name)s” is invalid: use 1 to 64 letters, digits and the characters +=,.@_-") % {
            "name": role_name
        }
    return _("The role path in this ARN is invalid: use printable characters between slashes.")


def external_id_error(value: str) -> str | None:
    """Return what is wrong with an external id, or None when AWS accepts it."""
    if not EXTERNAL_ID_MIN_LENGTH <= len(value) <= EXTERNAL_ID_MAX_LENGTH:
        return _("The external ID has %(length)s characters; AWS accepts %(min)s to %(max)s.") % {
            "length": len(value),
            "min": EXTERNAL_ID_MIN_LENGTH,
            "max": EXTERNAL_ID_MAX_LENGTH,
        }
    if not EXTERNAL_ID_RE.fullmatch(value):
        invalid = "".join(sorted({character for character in value if not EXTERNAL_ID_RE.fullmatch(character)}))
        return _(
            "The external ID contains characters that AWS does not accept (%(characters)s): use letters, "
            "digits and +=,.@:/-_ only."
        ) % {"characters": invalid}
    return None


class IntegrationForm(forms.Form):
    """Name, role ARN and external id of an AWS integration, for a new one or an existing one."""

    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        required=False,
        help_text=_("Shown in lists. Leave empty to use “AWS” and the account ID."),
    )
    role_arn = forms.CharField(
        label=_("Role ARN"),
        max_length=2048,
        help_text=_("The ARN of the role you created, for example arn:aws:iam::123456789012:role/RollcallAccess."),
        widget=forms.TextInput(attrs={"size": 70, "spellcheck": "false", "autocomplete": "off"}),
    )
    external_id = forms.CharField(
        label=_("External ID"),
        max_length=EXTERNAL_ID_MAX_LENGTH,
        help_text=_(
            "The external ID in the role's trust policy. Keep the generated one, or paste the one of a role "
            "you created before."
        ),
        widget=forms.TextInput(attrs={"size": 70, "spellcheck": "false", "autocomplete": "off"}),
    )

    def __init__(self, *args, instance: Integration | None = None, **kwargs):
        self.instance = instance
        super().__init__(*args, **kwargs)

    def _others(self):
        others = Integration.objects.all()
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        return others

    def clean_role_arn(self) -> str:
        value = self.cleaned_data["role_arn"].strip()
        error = role_arn_error(value)
        if error:
            raise forms.ValidationError(error, code="invalid")
        existing = self._others().filter(role_arn__iexact=value).first()
        if existing is not None:
            raise forms.ValidationError(
                _("This role is already integrated as “%(name)s”. Open that integration to change or retry it.")
                % {"name": existing.name},
                code="duplicate",
            )
        return value

    def clean_external_id(self) -> str:
        value = self.cleaned_data["external_id"].strip()
        error = external_id_error(value)
        if error:
            raise forms.ValidationError(error, code="invalid")
        existing = self._others().filter(external_id=value).first()
        if existing is not None:
            raise forms.ValidationError(
                _(
                    "This external ID is already used by the integration “%(name)s”. Every integration needs "
                    "its own external ID: use the generated one."
                )
                % {"name": existing.name},
                code="duplicate",
            )
        return value

    @property
    def warnings(self) -> list[str]:
        """Warnings that do not stop saving, such as a short external id."""
        value = (self.cleaned_data or {}).get("external_id") if hasattr(self, "cleaned_data") else None
        if value and len(value) < RECOMMENDED_EXTERNAL_ID_LENGTH:
            return [external_id_warning(value)]
        return []


def external_id_warning(value: str) -> str:
    return _(
        "The external ID has only %(length)s characters. Use at least %(recommended)s random characters "
        "(the generated one has 43), so that nobody can guess it."
    ) % {"length": len(value), "recommended": RECOMMENDED_EXTERNAL_ID_LENGTH}
