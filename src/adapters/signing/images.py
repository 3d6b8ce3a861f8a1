"""``PillowSignatureImages``: a signature image decoded in full before it is kept, so a PNG or
JPEG whose header is right but whose pixels are broken is refused when it arrives, not when the
document is sealed. WeasyPrint sets Pillow's process-wide ``LOAD_TRUNCATED_IMAGES`` when it is
imported, which makes ``load()`` pad broken pixel data instead of failing; ``verify()`` first checks
every PNG chunk's CRC whatever that setting, so the answer does not depend on what else the process
imported. The pixel limit was checked from the header first (``domain.signatures.images``),
so decoding cannot be made to allocate more than that."""

from __future__ import annotations

import io
import warnings

from PIL import Image

from domain.signatures.errors import BadSignatureImage


class PillowSignatureImages:
    def check(self, data: bytes, *, field: str = "image") -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data)) as image:
                    if image.format not in ("PNG", "JPEG"):
                        raise BadSignatureImage("the signature image is neither PNG nor JPEG", field=field)
                    image.verify()
                with Image.open(io.BytesIO(data)) as image:
                    image.load()
        except BadSignatureImage:
            raise
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise BadSignatureImage("the signature image cannot be decoded: its pixel data is damaged",
                                    field=field) from None
