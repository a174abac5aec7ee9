"""``--data avazu:PATH``: Kaggle Avazu (train or test, CSV with a header).

``click`` is the label; ``id`` is dropped; ``hour`` (YYMMDDHH) becomes two
fields as FuxiCTR does: the hour of day and the weekday; every other column
is categorical. The file is in time order (the hold-out is its tail)."""
from ..table.schema import Field, Schema
from .spec import SourceSpec

COLUMNS = ("id", "click", "hour", "C1", "banner_pos", "site_id", "site_domain", "site_category", "app_id",
           "app_domain", "app_category", "device_id", "device_ip", "device_model", "device_type",
           "device_conn_type", "C14", "C15", "C16", "C17", "C18", "C19", "C20", "C21")
CATEGORICAL = COLUMNS[3:]
AVAZU = Schema("avazu", "click",
               (Field("hour", "hour", "hour_of_day"), Field("weekday", "hour", "weekday"))
               + tuple(Field(name, name) for name in CATEGORICAL),
               columns=COLUMNS, sep=",")

SOURCE = SourceSpec("avazu", "avazu:PATH", "a Kaggle Avazu CSV: click, hour -> hour of day and weekday, "
                    "21 categorical columns", schema=lambda args, options: AVAZU, takes_path=True,
                    supports_hashing=True, default_preset="bars", time_ordered=True)
