"""A business chat's list pages only where /links sends it: the merchant's private chat."""

from __future__ import annotations

from linkbot.links import connection_tag
from tests.conftest import CUSTOMER, GROUP, MERCHANT, Chat
from tests.test_business import CONNECTION, connect, customer_says, merchant_says


async def business_links(chat: Chat) -> str:
    """Links in the merchant's business chat with a customer; the data of the list's button."""
    await connect(chat)
    await customer_says(chat)
    for n in range(11):
        await merchant_says(chat, f"/link {20 + n} Order {n}")
    await merchant_says(chat, "/links")
    listing = chat.last_reply()
    assert listing["chat_id"] == str(MERCHANT)
    assert "Links from your chat with Nok" in listing["text"]
    [[older]] = listing["reply_markup"]["inline_keyboard"]
    data = str(older["callback_data"])
    assert data == f"links:1:{CUSTOMER}:{connection_tag(CONNECTION)}"
    return data


async def test_a_business_chat_s_list_is_not_paged_into_a_group(chat: Chat) -> None:
    data = await business_links(chat)
    # A message of the bot's in a group holding customers.
    await chat.send("/links", chat=GROUP)
    group_message = chat.last_message()
    assert group_message["chat"]["id"] == GROUP["id"]

    for page in (data, data.replace("links:1:", "links:0:", 1)):
        await chat.press(page, group_message)
        assert chat.telegram.sent("editMessageText") == []
        answer = chat.telegram.sent("answerCallbackQuery")[-1]
        assert answer.get("show_alert") and "Order" not in str(answer.get("text"))


async def test_the_merchant_still_pages_it_in_their_private_chat(chat: Chat) -> None:
    data = await business_links(chat)
    await chat.press(data, chat.last_message())
    [page] = chat.telegram.sent("editMessageText")
    assert page["chat_id"] == str(MERCHANT) and "Order 0" in page["text"]
