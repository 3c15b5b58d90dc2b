"""PIX "copia e cola" payloads (the Central Bank's BR Code, an EMV QR Code in text).

Pure functions with no Django import, shared by the Asaas simulator (which builds dynamic
payloads) and the tests (which check what adapters store). A payload is a run of fields
``ID (2 digits) + length (2 digits) + value``, ending with field 63: a CRC16-CCITT (polynomial
0x1021, initial value 0xFFFF) of everything before its value, in four upper-case hex digits.
"""

from __future__ import annotations

from collections.abc import Iterator

PIX_GUI = "br.gov.bcb.pix"
CRC_FIELD = "6304"  # field 63, length 04: the checksum that closes every payload


def crc16(text: str) -> str:
    """CRC16-CCITT-FALSE of ``text`` (UTF-8), four upper-case hex digits."""
    crc = 0xFFFF
    for byte in text.encode("utf-8"):
        crc ^= byte << 8
        for _bit in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _field(field_id: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"field {field_id} is longer than 99 characters")
    return f"{field_id}{len(value):02d}{value}"


def fields(payload: str) -> Iterator[tuple[str, str]]:
    """The top-level ``(id, value)`` pairs; ValueError when the text is not a run of fields."""
    position = 0
    while position < len(payload):
        head = payload[position : position + 4]
        if len(head) < 4 or not head.isdigit():
            raise ValueError(f"no field at position {position}")
        length = int(head[2:])
        value = payload[position + 4 : position + 4 + length]
        if len(value) != length:
            raise ValueError(f"field {head[:2]} is cut short")
        yield head[:2], value
        position += 4 + length


def is_valid_payload(payload: str) -> bool:
    """True for a well-formed BR Code naming the PIX arrangement and closed by a correct CRC."""
    if not payload.startswith("000201") or len(payload) < 8:
        return False
    try:
        found = dict(fields(payload))
    except ValueError:
        return False
    account = found.get("26", "")
    try:
        gui = dict(fields(account)).get("00", "")
    except ValueError:
        return False
    return (
        gui.lower() == PIX_GUI and payload[-8:-4] == CRC_FIELD and crc16(payload[:-4]) == payload[-4:].upper()
    )


def dynamic_payload(*, location: str, merchant_name: str, merchant_city: str) -> str:
    """A dynamic PIX payload whose charge details live at ``location`` (a URL without scheme).

    Dynamic codes carry no amount: the payer's bank reads it from the location, so the same
    payload stays right when interest is added after the due date.
    """
    account = _field("00", PIX_GUI) + _field("25", location)
    body = (
        _field("00", "01")
        + _field("01", "12")  # point of initiation: 12 = may be paid once
        + _field("26", account)
        + _field("52", "0000")
        + _field("53", "986")  # BRL
        + _field("58", "BR")
        + _field("59", merchant_name[:25])
        + _field("60", merchant_city[:15])
        + _field("62", _field("05", "***"))
        + CRC_FIELD
    )
    return body + crc16(body)
