from django.db import models


class Note(models.Model):
    title = models.TextField(unique=True)

    class Meta:
        db_table = "notes"
        managed = False  # made by bench/sql/<backend> through `shallot migrate`
