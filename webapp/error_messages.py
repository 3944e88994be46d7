"""Domain errors in words: each code's message, in the reader's language.

A :class:`~webapp.domain.errors.DomainError` carries a code and params only.
:data:`MESSAGES` gives each code its Russian source text (a catalogue msgid, English in
``translations/en``); :func:`describe` translates it and fills in the params. A code
with no message of its own is worded by its class's category (``insufficient_points``),
then by its parents' (``conflict``), then by the generic ``domain_error``.

Params are shown the language's way: large whole numbers grouped ("1 500 000"), money
params (named ``*_minor``, in minor units) through :func:`~webapp.domain.money.format_money`,
percent params (named ``*_bp``, in basis points) as a percentage, and a form's field
``label`` translated. ``tests/unit/test_error_messages.py`` checks every raise site
against this table.

Flask-free: the CLI, the worker and the pages all use it.
"""

from __future__ import annotations

from typing import Any

from webapp.catalogue import N_, gettext_for, language
from webapp.domain.errors import DomainError
from webapp.domain.money import format_money
from webapp.domain.wording import is_ru, number, number_bp

# Points are "баллы" everywhere, as on the program page. Numbers of points sit after a
# colon or without a noun ("максимум баллов: %(max)s"), so no plural forms are needed.
MESSAGES: dict[str, str] = {
    "card_number_unknown": N_("Клиента с таким номером карты нет."),
    "abuse_blocked": N_(
        "Отказано: превышены лимиты против злоупотреблений. Позовите менеджера — он может провести "
        "эту операцию."
    ),
    "flag_own_actions": N_(
        "Сигнал о ваших собственных действиях закрывает другой сотрудник или владелец."
    ),
    "flag_owner_only": N_("Сигналы о корректировках баллов закрывает только владелец."),
    "reason_missing": N_("Укажите причину корректировки."),
    "reason_too_long": N_("Причина — не длиннее %(max)s символов."),
    "reason_too_short": N_("Причина — не короче %(min)s символов: напишите, что случилось."),
    "reason_repeated": N_("Напишите настоящую причину, а не один повторяющийся символ."),
    "asset_kind_unknown": N_("Тип — госномер, VIN, серийный номер или IMEI."),
    "asset_identifier_malformed": N_("Номер — от 2 до 40 букв или цифр."),
    "vin_malformed": N_("VIN — 17 символов, без букв I, O и Q."),
    "imei_malformed": N_("IMEI — 15 цифр."),
    "plate_malformed": N_("Госномер — до 12 букв и цифр, хотя бы одна цифра: например А123ВС77."),
    "asset_duplicate": N_("%(value)s уже есть в списке автомобилей и устройств клиента."),
    "counter_consent_required": N_(
        "Без согласия на обработку персональных данных записать клиента нельзя: пусть он"
        " прочитает его на экране и отметит."
    ),
    "unknown_referrer": N_(
        "Того, кто пригласил, не нашли: проверьте код приглашения или телефон."
    ),
    "card_number_length": N_("В номере карты должно быть цифр: %(length)s."),
    "card_number_check_digit": N_("В номере карты опечатка: не сходится контрольная цифра."),
    "invalid_checkin_code": N_("Это не код из приложения Regulars."),
    "checkin_code_foreign": N_("Этот код создан не в приложении этого клиента."),
    "stale_checkin_code": N_(
        "Код устарел: попросите клиента открыть приложение и показать текущий код."
    ),
    "counter_setting_range": N_("%(name)s: нужно целое число от %(low)s до %(high)s."),
    "sms_price_range": N_("Цена одного SMS — от 0 до 1000 ₽."),
    "hard_block_not_boolean": N_("hard_block — это true или false."),
    "points_not_whole": N_("Баллы — целое число."),
    "points_zero": N_("Число баллов не может быть нулём."),
    "points_not_positive": N_("Число баллов должно быть больше нуля."),
    "points_too_many": N_("Максимум баллов за одну операцию: %(max)s."),
    "money_not_whole": N_("Сумма — целое число копеек."),
    "amount_not_positive": N_("Сумма должна быть больше нуля."),
    "amount_too_large": N_("Слишком большая сумма."),
    "refund_not_positive": N_("Сумма возврата должна быть больше нуля."),
    "adjustment_zero": N_("Корректировка на ноль баллов ничего не меняет."),
    "points_short": N_(
        "Недостаточно баллов: доступно %(available)s, а списать нужно %(requested)s."
    ),
    "idempotency_key_malformed": N_("Форма устарела: обновите страницу и отправьте её снова."),
    "amount_missing": N_("Введите сумму в рублях."),
    "amount_negative": N_("Сумма не может быть отрицательной."),
    "amount_malformed": N_("Сумма — это рубли и не больше двух цифр копеек, например «1 500,50»."),
    "points_missing": N_("Введите число баллов, например «+100» или «-50»."),
    "points_too_large": N_("Слишком большое число баллов."),
    "number_out_of_range": N_("Введите целое число от %(low)s до %(high)s."),
    "discount_zero": N_("Для дисконтной карты нужна скидка больше 0 %."),
    "accrual_zero": N_("Для баллов нужно начисление больше 0 %."),
    "points_unspendable": N_(
        "Баллы, которыми нельзя заплатить, работают против вас: разрешите оплату хотя бы"
        " части чека."
    ),
    "program_empty": N_("Выберите механику, уровни или карту с печатями."),
    "stamp_reward_zero": N_("Награда карты с печатями должна быть больше 0 %."),
    "bonuses_need_points": N_(
        "Приветственный, реферальный и бонус ко дню рождения — это баллы: выберите бонусы или "
        "кэшбэк."
    ),
    "tier_threshold_missing": N_("Для уровня нужно число заказов или сумма покупок."),
    "tier_order": N_("Каждый уровень должен требовать больше предыдущего."),
    "downgrade_needs_window": N_("Понижать уровень можно только при подсчёте за последние месяцы."),
    "setting_count_range": N_("%(field)s: нужно целое число от %(low)s до %(high)s."),
    "setting_text_length": N_("%(field)s: текст от 1 до %(limit)s символов."),
    "kind_mix_malformed": N_("%(field)s: доли видов позиций — от 0 до 100 %% и вместе 100 %%."),
    "line_rule_target": N_("%(field)s: правило относится к одному типу позиций (работа,"
                           " запчасть, другое) или к одной категории."),
    "line_rule_twice": N_("%(field)s: для этого типа или категории правило уже есть."),
    "settings_malformed": N_("Настройки программы не читаются: проверьте поля."),
    "redeem_points_malformed": N_("Баллы к оплате — целое число, 0 или больше."),
    "redeem_over_cap": N_("Максимум баллов к оплате этого заказа: %(max)s."),
    "perk_unavailable": N_("Эта привилегия недоступна для этого заказа."),
    "tier_mix_malformed": N_(
        "Распределение по уровням: по одной доле на уровень, всего от 0 до 100 %."
    ),
    "unknown_customer": N_("Клиент не найден."),
    "insufficient_points": N_("Недостаточно баллов для этой операции."),
    "request_too_large": N_("Слишком большой запрос: не больше %(kilobytes)s КБ."),
    "invalid_json": N_(
        "Тело запроса — не JSON, который мы читаем: не глубже %(depth)s уровней, без символа NUL."
    ),
    "client_address_malformed": N_("Адрес клиента в запросе — не IP-адрес."),
    "character_not_allowed": N_("В поле есть недопустимый символ."),
    "flag_note_missing": N_("Напишите, что выяснили: комментарий обязателен."),
    "flag_note_too_long": N_("Комментарий — не длиннее %(max)s символов."),
    "unknown_flag": N_("Сигнал не найден."),
    "flag_resolved": N_("Этот сигнал уже закрыт."),
    "limits_owner_only": N_("Лимиты против злоупотреблений меняет только владелец."),
    "flags_managers_only": N_("Сигналы видят только менеджеры и владелец."),
    "unknown_business": N_("Компания не найдена."),
    "logo_too_large": N_("Логотип — файл изображения не больше 2 МБ."),
    "logo_size_malformed": N_("Логотип — изображение PNG, JPEG или WebP разумного размера."),
    "logo_not_image": N_("Этот файл — не изображение PNG, JPEG или WebP."),
    "counter_settings_owner_only": N_("Настройки кассы меняет только владелец."),
    "business_name_length": N_("Название компании — от 1 до 200 символов."),
    "currency_unknown": N_("«%(currency)s» — не код валюты ISO 4217."),
    "timezone_unknown": N_("«%(timezone)s» — не часовой пояс."),
    "locale_unknown": N_("«%(locale)s» — не код языка и региона."),
    "phone_region_unknown": N_("«%(phone_region)s» — не код телефонного региона."),
    "checkin_code_used": N_(
        "Этот код уже сканировали: попросите клиента показать новый код в приложении (он меняется "
        "каждые 30 секунд)."
    ),
    "card_unknown_here": N_("Такой карты нет ни у одного клиента."),
    "category_length": N_("Категория услуги — от 1 до 64 символов."),
    "refund_by_lines": N_("В заказе несколько позиций: оформите возврат по позициям."),
    "refund_by_amount_done": N_("По этому заказу уже был возврат суммой: возврат по позициям"
                                " невозможен."),
    "return_nothing": N_("Укажите, сколько вернуть хотя бы по одной позиции."),
    "order_line_unknown": N_("В заказе нет позиции %(position)s."),
    "return_over_sold": N_("Позиция %(position)s: вернуть можно не больше %(left)s."),
    "line_price_missing": N_("Позиция %(position)s: укажите цену."),
    "order_lines_missing": N_("В заказе нет ни одной позиции."),
    "order_lines_too_many": N_("В заказе не больше %(limit)s позиций."),
    "line_quantity_range": N_("Позиция %(position)s: количество — целое число от 1 до"
                              " %(high)s."),
    "line_kind_unknown": N_("Позиция %(position)s: тип — работа, запчасть или другое."),
    "line_name_length": N_("Позиция %(position)s: название не длиннее %(limit)s символов."),
    "lines_total_mismatch": N_("Сумма заказа %(total_minor)s не равна сумме позиций"
                               " %(lines_minor)s."),
    "confirmation_needed": N_(
        "Для списания баллов сверх %(threshold)s нужно подтверждение клиента: отправьте ему код."
    ),
    "no_program": N_("Программа лояльности ещё не выбрана: сначала её настраивает владелец."),
    "confirm_points_malformed": N_("Баллы для подтверждения — целое число больше 0."),
    "too_many_codes": N_("Этому клиенту за последний час отправлено слишком много кодов."),
    "confirmation_foreign": N_("Это подтверждение для другого клиента."),
    "confirmation_unusable": N_("Код уже использован или истёк: отправьте новый."),
    "wrong_confirmation_code": N_("Неверный код: попросите клиента прочитать его ещё раз."),
    "confirmation_points_differ": N_(
        "Клиент подтвердил другое число баллов: %(confirmed)s, а не %(points)s."
    ),
    "order_reference_closed": N_("Заказ с таким номером уже закрыт."),
    "unknown_branch": N_("Филиал не найден."),
    "branch_not_yours": N_("Вы не работаете в этом филиале."),
    "asset_not_customers": N_("Этот автомобиль или устройство не принадлежит клиенту."),
    "note_empty": N_("Заметка не может быть пустой."),
    "note_too_long": N_("Заметка — не длиннее %(limit)s символов."),
    "unknown_order": N_("Заказ не найден."),
    "name_too_long": N_("Имя — не длиннее 200 символов."),
    "unknown_referral_code": N_("Такого кода приглашения нет."),
    "search_too_short": N_("Введите хотя бы две буквы или цифры."),
    "too_many_sign_in_codes": N_("Слишком много запросов кода. Попробуйте снова через час."),
    "order_not_customers": N_("У этого клиента нет такого заказа."),
    "histories_managers_only": N_("Историю клиента видят только менеджеры и владелец."),
    "phone_missing": N_("Введите номер телефона."),
    "phone_malformed": N_("Это не номер телефона."),
    "phone_impossible": N_("Такого номера телефона не существует."),
    "phone_not_mobile": N_("Это не мобильный номер, а код приходит по SMS."),
    "asset_identifier_too_long": N_("Номер — не длиннее 64 символов."),
    "asset_label_too_long": N_("Подпись — не длиннее 200 символов."),
    "unknown_asset": N_("Такого автомобиля или устройства нет."),
    "asset_in_history": N_(
        "Этот автомобиль или устройство есть в истории ваших заказов, поэтому удалить его нельзя."
    ),
    "consent_not_boolean": N_("Согласие можно либо дать, либо отозвать."),
    "delete_word_missing": N_("Чтобы удалить аккаунт, введите слово «удалить»."),
    "name_not_text": N_("Имя должно быть текстом."),
    "birthday_malformed": N_("Укажите дату рождения, например 1990-05-31."),
    "birthday_in_future": N_("Дата рождения не может быть в будущем."),
    "birthday_before_1900": N_("Дата рождения не может быть раньше 1900 года."),
    "search_too_long": N_("Слишком длинный запрос."),
    "search_unrecognised": N_(
        "Введите номер карты, не меньше 4 последних цифр телефона или госномер."
    ),
    "phone_digits_count": N_("Введите от 4 до 10 последних цифр телефона."),
    "consent_required": N_("Чтобы продолжить, дайте согласие на обработку персональных данных."),
    "sign_in_code_unusable": N_("Код больше не действует: запросите новый."),
    "wrong_sign_in_code": N_("Неверный код. Осталось попыток: %(left)s."),
    "account_closed": N_("Эта карта закрыта: обратитесь в компанию, чтобы её восстановить."),
    "unknown_session": N_("Такого входа нет."),
    "customer_not_active": N_(
        "Аккаунт клиента удалён или заблокирован: его баллы больше не меняются."
    ),
    "corrections_managers_only": N_("Корректировать баллы могут только менеджеры и владелец."),
    "request_decided": N_("По этому запросу уже принято решение."),
    "unknown_adjustment_request": N_("Запрос на корректировку не найден."),
    "requests_owner_only": N_("Одобряет и отклоняет запросы на корректировку только владелец."),
    "unknown_hold": N_("Резерв баллов не найден."),
    "already_resolved": N_("Этот резерв баллов уже закрыт."),
    "refund_over_left": N_(
        "Возврат больше, чем осталось по заказу: можно вернуть не больше %(left_minor)s."
    ),
    "adjust_staff_only": N_("Корректировать баллы может только сотрудник."),
    "duplicate_accrual": N_("Баллы за этот заказ уже начислены."),
    "role_not_allowed": N_("Недостаточно прав для этого действия."),
    "push_subscription_malformed": N_(
        "Подписка на уведомления должна быть JSON-объектом с адресом и ключами."
    ),
    "push_endpoint_malformed": N_("Адрес для уведомлений — ссылка не длиннее 1024 символов."),
    "push_endpoint_not_https": N_(
        "Адрес для уведомлений должен быть https-адресом службы push-уведомлений."
    ),
    "push_keys_missing": N_("В подписке на уведомления нет ключей."),
    "push_p256dh_malformed": N_("Ключ p256dh в подписке — не открытый ключ P-256."),
    "push_auth_malformed": N_("Секрет auth в подписке должен быть длиной 16 байт."),
    "program_owner_only": N_("Менять программу может только владелец."),
    "costs_managers_only": N_("Стоимость программы видят только менеджер и владелец."),
    "assumptions_unknown": N_("Неизвестные допущения: %(names)s."),
    "simulation_needs_preset": N_(
        "У компании ещё нет программы: выберите готовую программу для оценки."
    ),
    "unknown_preset": N_("Нет готовой программы «%(preset)s»."),
    "past_start": N_(
        "Новая версия не может начаться в прошлом: это переписало бы уже закрытые заказы."
    ),
    "unknown_program_version": N_("Такой версии программы нет."),
    "unknown_staff_member": N_("Сотрудник не найден."),
    "login_taken": N_("Этот логин уже занят."),
    "login_malformed": N_("Логин — от 1 до 64 букв, цифр или символов . _ - @."),
    "weak_password": N_("Пароль — не короче %(min)s символов."),
    "password_too_long": N_("Пароль — не длиннее %(max)s символов."),
    "role_unknown": N_("Роль — кассир, менеджер или владелец."),
    "branch_foreign": N_("Этот филиал принадлежит другой компании."),
    "audit_managers_only": N_("Журнал действий видят только менеджеры и владелец."),
    "limits_unavailable": N_("Вход временно недоступен: попробуйте через минуту."),
    "sign_in_login_locked": N_(
        "Слишком много попыток войти под этим логином. Попробуйте снова через %(seconds)s с."
    ),
    "sign_in_failures_locked": N_(
        "Слишком много неудачных попыток. Попробуйте снова через %(minutes)s мин."
    ),
    "sign_out_owner_only": N_("Завершать сеансы других сотрудников может только владелец."),
    "invalid_invite": N_("Приглашение недействительно."),
    "own_reset": N_("Владелец не может сбросить свой доступ."),
    "own_deactivate": N_("Владелец не может отключить сам себя."),
    "own_demote": N_("Владелец не может понизить свою роль."),
    "staff_owner_only": N_("Сотрудниками управляет только владелец."),
    "idempotency_conflict": N_(
        "Эта форма уже была отправлена с другими данными. Обновите страницу и попробуйте снова."
    ),
    "google_wallet_unavailable": N_("Google Кошелёк не ответил: попробуйте через минуту."),
    "wallet_link_invalid": N_("Ссылка недействительна: попросите на кассе новую."),
    "unauthorized": N_("Ключ доступа к карте отсутствует или неверен."),
    "device_id_malformed": N_(
        "Идентификатор устройства — от 1 до 64 букв, цифр, «.», «_» или «-»."
    ),
    "push_token_body_malformed": N_(
        "Тело запроса должно быть {\"pushToken\": <от 1 до 200 букв или цифр>}."
    ),
    "unknown_pass": N_("Такой карты нет."),
    "push_token_malformed": N_("Токен уведомлений — от 1 до 200 букв или цифр."),
    "logs_body_malformed": N_("Тело запроса должно быть {\"logs\": [<текст>, ...]}."),
    "setting_start_missing": N_("«Дата и время начала»: укажите дату и время."),
    "number_not_whole": N_("Введите целое число."),
    "order_amount_missing": N_("Введите сумму заказа."),
    "body_not_json": N_("The body must be JSON."),
    "approval_large": N_("Корректировку сверх лимита одобряет владелец. Лимит баллов: %(limit)s."),
    "approval_staff_day": N_(
        "Корректировку одобряет владелец: с ней ваши корректировки за сегодня превысят дневной "
        "лимит. Сумма баллов за день: %(total)s, лимит: %(limit)s."
    ),
    "approval_customer_day": N_(
        "Корректировку одобряет владелец: с ней корректировки этому клиенту за сегодня превысят "
        "лимит. Сумма баллов за день: %(total)s, лимит: %(limit)s."
    ),
    "points_typed_not_whole": N_("Баллы — целое число, например «+100» или «-50»."),
    "setting_percent_range": N_("%(field)s: процент от 0 до %(high_bp)s %%."),
    "assumption_range": N_("%(field)s: нужно целое число от %(low)s до %(high)s."),
    "unknown_preset_choice": N_(
        "Нет готовой программы «%(preset)s»; выберите одну из: %(choices)s."
    ),
    "setting_not_number": N_("«%(label)s»: нужно число, а не «%(value)s»."),
    "setting_decimals": N_("«%(label)s»: не больше двух знаков после запятой."),
    "setting_kopecks": N_("«%(label)s»: рубли и копейки, не точнее."),
    "setting_not_whole": N_("«%(label)s»: нужно целое число."),
    "entitlement_malformed": N_(
        "Уровень %(tier)s: привилегия «%(perk)s» записывается как «Название: 1/%(visit)s»"
        " (или /%(month)s, /%(year)s), со стоимостью одного использования в рублях —"
        " «Название: 1/%(visit)s = 1500»."
    ),
    "categories_managers_only": N_(
        "Категории работ и запчастей меняют только менеджер и владелец."
    ),
    "unknown_category": N_("Такой категории нет."),
    "category_name_missing": N_("Введите название категории по-русски."),
    "category_name_too_long": N_("Название категории — не длиннее %(max)s символов."),
    "category_kind_unknown": N_("Тип категории — работа, запчасть или другое."),
    "category_code_malformed": N_(
        "Код категории — латинские буквы, цифры и «_», с буквы в начале, не длиннее %(max)s"
        " символов."
    ),
    "category_code_taken": N_("Категория с кодом %(code)s уже есть: «%(name)s»."),
    # -- categories: each error class's code, for a code without its own message
    "domain_error": N_("Действие не выполнено."),
    "invalid_input": N_("Неверное значение: проверьте введённые данные."),
    "invalid_amount": N_("Неверная сумма или число баллов."),
    "invalid_phone": N_("Неверный номер телефона."),
    "invalid_card_number": N_("Неверный номер карты."),
    "invalid_setting": N_("Эта настройка программы не подходит: проверьте поля."),
    "invalid_reason": N_("Напишите причину понятнее: от 10 до 500 символов."),
    "not_found": N_("Не найдено."),
    "permission_denied": N_("Недостаточно прав."),
    "conflict": N_("Действие противоречит текущему состоянию: обновите страницу."),
    "already_exists": N_("Такая запись уже есть."),
    "own_account": N_("Владелец не может так изменить свою учётную запись."),
    "approval_required": N_("Такую корректировку одобряет владелец."),
    "too_many_sign_ins": N_("Слишком много попыток входа. Попробуйте позже."),
    "wallet_unavailable": N_("Кошелёк не ответил: попробуйте позже."),
}

_TRANSLATED_PARAMS = ("label",)  # a form's field name, itself a catalogue text
def _shown(name: str, value: Any, lang: str, currency: str) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if name.endswith("_minor"):
            return format_money(value, currency, lang)
        if name.endswith("_bp"):
            return number_bp(value, is_ru(lang))
        # Short numbers stay as typed ("1000"), long ones are grouped ("15 000").
        return number(value, lang) if abs(value) >= 10_000 else str(value)
    if name in _TRANSLATED_PARAMS and isinstance(value, str):
        return gettext_for(lang)(value)
    return value


def _worded(code: str, params: dict[str, Any], lang: str) -> str | None:
    """The code's message with the params, or None (no message, or a param missing)."""
    text = MESSAGES.get(code)
    if text is None:
        return None
    translated = gettext_for(lang)(text)
    if "%(" not in translated:
        return translated
    try:
        return translated % params
    except (KeyError, ValueError, TypeError):
        return None


def describe(error: DomainError, lang: str | None) -> str:
    """The error's message in ``lang`` ("ru", "en"; anything else as :mod:`webapp.catalogue`
    decides): the code's, else the nearest class category's, else the generic one."""
    lang = language(lang)
    currency = str(error.params.get("currency") or "RUB")
    params = {name: _shown(name, value, lang, currency) for name, value in error.params.items()}
    codes = [error.code, error.category] + [
        code for cls in type(error).__mro__ if isinstance(code := vars(cls).get("code"), str)
    ]
    for code in codes:
        text = _worded(code, params, lang)
        if text is not None:
            return text
    return gettext_for(lang)(MESSAGES[DomainError.code])
