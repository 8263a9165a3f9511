from __future__ import annotations

from django import forms

from retainer.imports.csv_import import KINDS

#: Larger files go through ``manage.py import_csv``, which shows its progress.
BROWSER_MAX_BYTES = 5 * 1024 * 1024


class CsvImportForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(kind, kind.capitalize()) for kind in KINDS],
        help_text="Import organizations first, then contacts, contracts and cases.",
    )
    file = forms.FileField(
        help_text="UTF-8 CSV with a header row (docs/imports.md lists the columns)."
    )
    source = forms.SlugField(
        max_length=60,
        initial="csv",
        help_text="The name this import's rows are remembered by: running a file again under "
        "the same name skips what it imported before.",
    )
    dry_run = forms.BooleanField(
        required=False, initial=True, help_text="Check every row and report; write nothing."
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > BROWSER_MAX_BYTES:
            raise forms.ValidationError(
                "This file is larger than 5 MB: import it with manage.py import_csv."
            )
        return bytes(upload.read())
