"""Domain error messages in Russian, until Flask-Babel takes over.

Every English template raised with a :class:`~webapp.domain.errors.DomainError`
has a Russian entry in :data:`RU` with the same ``{placeholders}``;
``tests/unit/test_error_text.py`` scans the code and fails when one is missing.
Messages built at run time (f-strings) fall back to :data:`RU_BY_CODE`, looked up
along the error's class hierarchy (``weak_password`` -> ``invalid_input``).

Points are "баллы" everywhere, as on the program page. Numbers of points sit after
a colon or without a noun ("максимум баллов: {max}"), so no plural forms are needed.
"""

from __future__ import annotations

import re
from typing import Any

from webapp.domain.errors import DomainError

RU: dict[str, str] = {
    # -- webapp/domain/assets.py
    "The kind is plate, vin, serial or imei.": "Тип — госномер, VIN, серийный номер или IMEI.",
    "An identifier has 2 to 40 letters or digits.": "Номер — от 2 до 40 букв или цифр.",
    "A VIN has 17 characters and no I, O or Q.": "VIN — 17 символов, без букв I, O и Q.",
    "An IMEI has 15 digits.": "IMEI — 15 цифр.",
    # -- webapp/domain/cards.py
    "A card number has {length} digits.": "В номере карты должно быть цифр: {length}.",
    "This card number has a typo: the check digit does not match.": (
        "В номере карты опечатка: не сходится контрольная цифра."
    ),
    # -- webapp/domain/checkin.py, webapp/services/counter/checkins.py
    "This is not a Regulars check-in code.": "Это не код из приложения Regulars.",
    "This code was not made by this customer's app.": (
        "Этот код создан не в приложении этого клиента."
    ),
    "This code has expired: ask the customer to open the app and show the live code.": (
        "Код устарел: попросите клиента открыть приложение и показать текущий код."
    ),
    "This code was already scanned: ask the customer to show the new code in the app"
    " (it changes every 30 seconds).": (
        "Этот код уже сканировали: попросите клиента показать новый код в приложении"
        " (он меняется каждые 30 секунд)."
    ),
    "No customer of this business has this card.": "Такой карты нет ни у одного клиента.",
    # -- webapp/domain/counter_settings.py, webapp/services/business/settings.py
    "hard_block is true or false.": "hard_block — это true или false.",
    "{name} must be a whole number from {low} to {high}.": (
        "{name}: нужно целое число от {low} до {high}."
    ),
    "Only the owner changes the counter settings.": "Настройки кассы меняет только владелец.",
    # -- webapp/domain/ledger.py, webapp/persistence/ledger_store.py
    "Not enough points: {available} available, {requested} requested.": (
        "Недостаточно баллов: доступно {available}, а списать нужно {requested}."
    ),
    "Not enough points for this operation.": "Недостаточно баллов для этой операции.",
    "Points must be a whole number.": "Баллы — целое число.",
    "Points must not be zero.": "Число баллов не может быть нулём.",
    "Points must be positive.": "Число баллов должно быть больше нуля.",
    "No more than {max:,} points at once.": "Максимум баллов за одну операцию: {max}.",
    "Money is a whole number of minor units (kopecks).": "Сумма — целое число копеек.",
    "The amount must be positive.": "Сумма должна быть больше нуля.",
    "The amount is too large.": "Слишком большая сумма.",
    "An idempotency key is 8 to 200 printable ASCII characters.": (
        "Неверный ключ повторной отправки: обновите страницу и попробуйте снова."
    ),
    # -- webapp/domain/money.py
    "Enter an amount in rubles.": "Введите сумму в рублях.",
    "The amount must not be negative.": "Сумма не может быть отрицательной.",
    "An amount is rubles with up to two digits of kopecks.": (
        "Сумма — это рубли и не больше двух цифр копеек, например «1 500,50»."
    ),
    "Enter a number of points.": "Введите число баллов.",
    "The number of points is too large.": "Слишком большое число баллов.",
    # -- webapp/domain/program.py (wording as on the program page)
    "A discount card needs a discount above 0 %.": "Для дисконтной карты нужна скидка больше 0 %.",
    "Points need an accrual rate above 0 %.": "Для баллов нужно начисление больше 0 %.",
    "Points must be spendable: allow paying some share of an order.": (
        "Баллами должно быть можно платить: разрешите оплату хотя бы части чека."
    ),
    "Choose a mechanic, tiers or a stamp card.": "Выберите механику, уровни или карту с печатями.",
    "Welcome, referral and birthday bonuses are points: choose bonus or cashback.": (
        "Приветственный, реферальный и бонус ко дню рождения — это баллы:"
        " выберите бонусы или кэшбэк."
    ),
    "{field}: a whole number from {low} to {high}.": (
        "{field}: нужно целое число от {low} до {high}."
    ),
    "{field}: text of 1 to {limit} characters.": "{field}: текст от 1 до {limit} символов.",
    "The program settings are malformed: {error}.": "Настройки программы не читаются: {error}.",
    "A stamp card reward must be above 0 %.": "Награда карты с печатями должна быть больше 0 %.",
    "A tier needs an order count or a spend to reach it.": (
        "Для уровня нужно число заказов или сумма покупок."
    ),
    "Each tier must need more than the one before it.": (
        "Каждый уровень должен требовать больше предыдущего."
    ),
    "Downgrades need a rolling window.": (
        "Понижать уровень можно только при подсчёте за последние месяцы."
    ),
    # -- webapp/domain/quote.py
    "Points to pay with must be a whole number, 0 or more.": (
        "Баллы к оплате — целое число, 0 или больше."
    ),
    "At most {max} points can pay for this order.": "Максимум баллов к оплате этого заказа: {max}.",
    "This perk is not available on this order.": "Эта привилегия недоступна для этого заказа.",
    # -- webapp/domain/simulation.py, webapp/services/program/simulation.py
    "The tier mix needs one share per tier, 0 to 100 % in all.": (
        "Распределение по уровням: по одной доле на уровень, всего от 0 до 100 %."
    ),
    "Only a manager or the owner can see program costs.": (
        "Стоимость программы видят только менеджер и владелец."
    ),
    "Unknown assumptions: {names}.": "Неизвестные допущения: {names}.",
    "The business has no program yet: choose a preset to estimate.": (
        "У компании ещё нет программы: выберите готовую программу для оценки."
    ),
    # -- webapp/services/staff/audit.py
    "Only managers and owners see the audit trail.": (
        "Журнал действий видят только менеджеры и владелец."
    ),
    # -- webapp/services/business/setup.py
    "A business needs a name of 1 to 200 characters.": "Название компании — от 1 до 200 символов.",
    "{currency!r} is not an ISO 4217 currency code.": "{currency!r} — не код валюты ISO 4217.",
    "{timezone!r} is not a time zone.": "{timezone!r} — не часовой пояс.",
    "{locale!r} is not a locale.": "{locale!r} — не код языка и региона.",
    "{phone_region!r} is not a phone region.": "{phone_region!r} — не код телефонного региона.",
    # -- webapp/services/counter/checkout.py, webapp/services/counter/orders.py
    "A service category is 1 to 64 characters.": "Категория услуги — от 1 до 64 символов.",
    "Redeeming more than {threshold} points needs the customer's confirmation: send them a code.": (
        "Для списания баллов сверх {threshold} нужно подтверждение клиента: отправьте ему код."
    ),
    "No loyalty program is set up yet: the owner chooses one first.": (
        "Программа лояльности ещё не выбрана: сначала её настраивает владелец."
    ),
    "An order with this reference is already closed.": "Заказ с таким номером уже закрыт.",
    "No such branch.": "Филиал не найден.",
    "You do not work at this branch.": "Вы не работаете в этом филиале.",
    "This vehicle or device is not the customer's.": (
        "Этот автомобиль или устройство не принадлежит клиенту."
    ),
    # -- webapp/security.py
    "A field contains a character that is not allowed.": "В поле есть недопустимый символ.",
    "The request's client address is not an IP address.": (
        "Адрес клиента в запросе — не IP-адрес."
    ),
    # -- webapp/domain/numbers.py
    "Enter a whole number from {low} to {high}.": "Введите целое число от {low} до {high}.",
    # -- webapp/request_body.py
    "The request is too large: at most {kilobytes} KB.": (
        "Слишком большой запрос: не больше {kilobytes} КБ."
    ),
    "The body is not JSON we read: at most {depth} levels deep, no NUL characters.": (
        "Тело запроса — не JSON, который мы читаем: не глубже {depth} уровней, без символа"
        " NUL."
    ),
    # -- webapp/services/customers/sign_in.py
    "Agree to the processing of personal data to continue.": (
        "Чтобы продолжить, дайте согласие на обработку персональных данных."
    ),
    "Too many codes were asked for: try again in an hour.": (
        "Слишком много запросов кода. Попробуйте снова через час."
    ),
    "This code has expired: ask for a new one.": "Код больше не действует: запросите новый.",
    "The code is wrong. Attempts left: {left}.": "Неверный код. Осталось попыток: {left}.",
    "This account is closed: ask the business to reopen it.": (
        "Эта карта закрыта: обратитесь в компанию, чтобы её восстановить."
    ),
    "No such session.": "Такого входа нет.",
    # -- webapp/services/customers/profile.py
    "An identifier is at most 64 characters.": "Номер — не длиннее 64 символов.",
    "A label is at most 200 characters.": "Подпись — не длиннее 200 символов.",
    "No such vehicle or device.": "Такого автомобиля или устройства нет.",
    "This vehicle or device is in your order history, so it cannot be removed.": (
        "Этот автомобиль или устройство есть в истории ваших заказов, поэтому удалить его нельзя."
    ),
    "Consent is either given or withdrawn.": "Согласие можно либо дать, либо отозвать.",
    "Type the confirmation word to delete the account.": (
        "Чтобы удалить аккаунт, введите слово «удалить»."
    ),
    "The name must be text.": "Имя должно быть текстом.",
    "Enter the birthday as a date, for example 1990-05-31.": (
        "Укажите дату рождения, например 1990-05-31."
    ),
    "The birthday cannot be in the future.": "Дата рождения не может быть в будущем.",
    "The birthday cannot be before 1900.": "Дата рождения не может быть раньше 1900 года.",
    # -- webapp/services/business/logos.py
    "A logo is an image file of at most 2 MB.": "Логотип — файл изображения не больше 2 МБ.",
    "A logo is a PNG, JPEG or WebP image of sensible size.": (
        "Логотип — изображение PNG, JPEG или WebP разумного размера."
    ),
    "This file is not a PNG, JPEG or WebP image.": "Этот файл — не изображение PNG, JPEG или WebP.",
    # -- wallet/google/links.py
    "Google Wallet did not answer: try again in a minute.": (
        "Google Кошелёк не ответил: попробуйте через минуту."
    ),
    # -- webapp/services/wallet/links.py
    "This link is not valid: ask at the counter for a new one.": (
        "Ссылка недействительна: попросите на кассе новую."
    ),
    # -- webapp/services/wallet/passkit.py (answers to iPhones; kept translated all the same)
    "The pass's authentication token is missing or wrong.": (
        "Ключ доступа к карте отсутствует или неверен."
    ),
    "A device library identifier is 1 to 64 letters, digits, '.', '_' or '-'.": (
        "Идентификатор устройства — от 1 до 64 букв, цифр, «.», «_» или «-»."
    ),
    'The body must be {"pushToken": <1 to 200 letters or digits>}.': (
        'Тело запроса должно быть {"pushToken": <от 1 до 200 букв или цифр>}.'
    ),
    "No such pass.": "Такой карты нет.",
    "A push token is 1 to 200 letters or digits.": (
        "Токен уведомлений — от 1 до 200 букв или цифр."
    ),
    'The body must be {"logs": [<text>, ...]}.': (
        'Тело запроса должно быть {"logs": [<текст>, ...]}.'
    ),
    # -- webapp/services/notify/push.py
    "A push subscription is a JSON object with an endpoint and keys.": (
        "Подписка на уведомления должна быть JSON-объектом с адресом и ключами."
    ),
    "The push endpoint must be a URL of at most 1024 characters.": (
        "Адрес для уведомлений — ссылка не длиннее 1024 символов."
    ),
    "The push endpoint must be an https address of a push service.": (
        "Адрес для уведомлений должен быть https-адресом службы push-уведомлений."
    ),
    "The push subscription has no keys.": "В подписке на уведомления нет ключей.",
    "The subscription's p256dh key is not a P-256 public key.": (
        "Ключ p256dh в подписке — не открытый ключ P-256."
    ),
    "The subscription's auth secret must be 16 bytes.": (
        "Секрет auth в подписке должен быть длиной 16 байт."
    ),
    # -- webapp/services/counter/confirmations.py
    "Points to confirm must be a whole number above 0.": (
        "Баллы для подтверждения — целое число больше 0."
    ),
    "Too many codes were sent to this customer in the last hour.": (
        "Этому клиенту за последний час отправлено слишком много кодов."
    ),
    "This confirmation is not for this customer.": "Это подтверждение для другого клиента.",
    "The code is used up or expired: send a new one.": (
        "Код уже использован или истёк: отправьте новый."
    ),
    "The code is wrong: ask the customer to read it again.": (
        "Неверный код: попросите клиента прочитать его ещё раз."
    ),
    "The customer confirmed {confirmed} points, not {points}.": (
        "Клиент подтвердил другое число баллов: {confirmed}, а не {points}."
    ),
    # -- webapp/services/counter/panel.py
    "A note cannot be empty.": "Заметка не может быть пустой.",
    "A note is at most {limit} characters.": "Заметка — не длиннее {limit} символов.",
    "No such order.": "Заказ не найден.",
    # -- webapp/services/customers/accounts.py, customer_search.py, ledger_views.py
    "No such customer.": "Клиент не найден.",
    "No such business.": "Компания не найдена.",
    "A name is at most 200 characters.": "Имя — не длиннее 200 символов.",
    "No customer has this card number.": "Клиента с таким номером карты нет.",
    "Type at least two letters or digits.": "Введите хотя бы две буквы или цифры.",
    "There is no such referral code.": "Такого кода приглашения нет.",
    "Type a card number, at least 4 digits of a phone, or a plate.": (
        "Введите номер карты, не меньше 4 последних цифр телефона или госномер."
    ),
    "The search text is too long.": "Слишком длинный запрос.",
    "Type 4 to 10 last digits of the phone.": "Введите от 4 до 10 последних цифр телефона.",
    # -- webapp/services/unit_of_work.py
    "This idempotency key was already used for a different request.": (
        "Эта форма уже была отправлена с другими данными. Обновите страницу и попробуйте снова."
    ),
    # -- webapp/services/ledger/operations.py
    "No such pending hold.": "Резерв баллов не найден.",
    "This pending hold was already resolved.": "Этот резерв баллов уже закрыт.",
    "The refund is larger than what is left of the order.": (
        "Возврат больше, чем осталось по заказу."
    ),
    "Only a staff member can adjust points.": "Корректировать баллы может только сотрудник.",
    # -- webapp/domain/adjustments.py, webapp/services/ledger/adjustment_requests.py
    "An adjustment needs a reason.": "Укажите причину корректировки.",
    "The reason is longer than {max} characters.": "Причина — не длиннее {max} символов.",
    "Write the reason in at least {min} characters.": (
        "Причина — не короче {min} символов: напишите, что случилось."
    ),
    "Write a real reason, not one character repeated.": (
        "Напишите настоящую причину, а не один повторяющийся символ."
    ),
    "Adjustments of more than {limit} points need the owner's approval.": (
        "Корректировку сверх лимита одобряет владелец. Лимит баллов: {limit}."
    ),
    "Your adjustments today would come to {total} points, more than the {limit}"
    " a staff member applies in a day without the owner's approval.": (
        "Корректировку одобряет владелец: с ней ваши корректировки за сегодня превысят"
        " дневной лимит. Сумма баллов за день: {total}, лимит: {limit}."
    ),
    "Adjustments to this customer today would come to {total} points, more than"
    " the {limit} applied without the owner's approval.": (
        "Корректировку одобряет владелец: с ней корректировки этому клиенту за сегодня"
        " превысят лимит. Сумма баллов за день: {total}, лимит: {limit}."
    ),
    "This customer's account is closed or blocked: their points no longer change.": (
        "Аккаунт клиента удалён или заблокирован: его баллы больше не меняются."
    ),
    "A flag about your own actions is resolved by someone else.": (
        "Сигнал о ваших собственных действиях закрывает другой сотрудник или владелец."
    ),
    "Flags about manual adjustments of points are resolved by the owner.": (
        "Сигналы о корректировках баллов закрывает только владелец."
    ),
    "No such adjustment request.": "Запрос на корректировку не найден.",
    "This adjustment request was already decided.": "По этому запросу уже принято решение.",
    "Only the owner approves or rejects adjustment requests.": (
        "Одобряет и отклоняет запросы на корректировку только владелец."
    ),
    "Only managers and owners correct points.": (
        "Корректировать баллы могут только менеджеры и владелец."
    ),
    "This order has already earned its points.": "Баллы за этот заказ уже начислены.",
    "No such order for this customer.": "У этого клиента нет такого заказа.",
    "Your role does not allow this.": "Недостаточно прав для этого действия.",
    # -- webapp/services/customers/phones.py
    "Enter a phone number.": "Введите номер телефона.",
    "This phone number does not exist.": "Такого номера телефона не существует.",
    "This is not a phone number.": "Это не номер телефона.",
    "This is not a mobile number: the code comes by SMS.": (
        "Это не мобильный номер, а код приходит по SMS."
    ),
    # -- webapp/services/program/page.py, programs.py
    "Only the owner can change the program.": "Менять программу может только владелец.",
    "No preset {preset!r}.": "Нет готовой программы {preset!r}.",
    "A new version cannot start in the past: that would rewrite orders already closed.": (
        "Новая версия не может начаться в прошлом: это переписало бы уже закрытые заказы."
    ),
    "No such program version.": "Такой версии программы нет.",
    # -- webapp/services/staff/accounts.py, staff_admin.py
    "A login is 1 to 64 letters, digits or . _ - @.": (
        "Логин — от 1 до 64 букв, цифр или символов . _ - @."
    ),
    "A password needs at least {min} characters.": "Пароль — не короче {min} символов.",
    "A password is at most {max} characters.": "Пароль — не длиннее {max} символов.",
    "A branch does not belong to this business.": "Этот филиал принадлежит другой компании.",
    "The role is cashier, manager or owner.": "Роль — кассир, менеджер или владелец.",
    "This login is taken.": "Этот логин уже занят.",
    "This invitation is not valid.": "Приглашение недействительно.",
    "An owner does not reset their own access.": "Владелец не может сбросить свой доступ.",
    "An owner does not deactivate themselves.": "Владелец не может отключить сам себя.",
    "An owner does not demote themselves.": "Владелец не может понизить свою роль.",
    "Only the owner manages staff.": "Сотрудниками управляет только владелец.",
    "No such staff member.": "Сотрудник не найден.",
    # -- webapp/domain/abuse.py, webapp/services/abuse/checks.py
    "Refused: this goes over the business's abuse limits. Call a manager, who can do it.": (
        "Отказано: превышены лимиты против злоупотреблений. Позовите менеджера — он может"
        " провести эту операцию."
    ),
    "Say what was found: the note is required.": "Напишите, что выяснили: комментарий обязателен.",
    "The note is at most {max} characters.": "Комментарий — не длиннее {max} символов.",
    "No such flag.": "Сигнал не найден.",
    "This flag was already resolved.": "Этот сигнал уже закрыт.",
    "Only the owner changes the abuse limits.": (
        "Лимиты против злоупотреблений меняет только владелец."
    ),
    "Only managers and owners see abuse flags.": "Сигналы видят только менеджеры и владелец.",
    # -- webapp/services/customers/history.py, sign_in.py
    "Only managers and owners see customer histories.": (
        "Историю клиента видят только менеджеры и владелец."
    ),
    "Only the owner signs other staff members out.": (
        "Завершать сеансы других сотрудников может только владелец."
    ),
    "Too many attempts for this login: try again in {seconds} s.": (
        "Слишком много попыток войти под этим логином. Попробуйте снова через {seconds} с."
    ),
    "Sign-in is unavailable for a moment: try again in a minute.": (
        "Вход временно недоступен: попробуйте через минуту."
    ),
    "Too many failed attempts: try again in {minutes} min.": (
        "Слишком много неудачных попыток. Попробуйте снова через {minutes} мин."
    ),
    # -- staff/counter/views.py
    "Enter a whole number.": "Введите целое число.",
    "Enter the order amount.": "Введите сумму заказа.",
}

RU_BY_CODE: dict[str, str] = {
    "domain_error": "Действие не выполнено.",
    "invalid_input": "Неверное значение: проверьте введённые данные.",
    "invalid_amount": "Неверная сумма или число баллов.",
    "invalid_phone": "Неверный номер телефона.",
    "invalid_card_number": "Неверный номер карты.",
    "invalid_setting": "Эта настройка программы не подходит: проверьте поля.",
    "invalid_checkin_code": "Это не код из приложения клиента.",
    "stale_checkin_code": "Код устарел: попросите клиента показать текущий код.",
    "checkin_code_used": "Этот код уже сканировали: попросите клиента показать новый.",
    "weak_password": "Слишком короткий пароль.",
    "wrong_confirmation_code": "Неверный код подтверждения.",
    "wrong_sign_in_code": "Неверный код из SMS.",
    "unauthorized": "Нет доступа.",
    "unknown_pass": "Такой карты нет.",
    "wallet_unavailable": "Кошелёк не ответил: попробуйте позже.",
    "sign_in_code_unusable": "Код больше не действует: запросите новый.",
    "too_many_sign_in_codes": "Слишком много запросов кода. Попробуйте позже.",
    "too_many_sign_ins": "Слишком много попыток входа. Попробуйте позже.",
    "limits_unavailable": "Вход временно недоступен: попробуйте через минуту.",
    "consent_required": "Нужно согласие на обработку персональных данных.",
    "not_found": "Не найдено.",
    "unknown_customer": "Клиент не найден.",
    "unknown_order": "Заказ не найден.",
    "invalid_invite": "Приглашение недействительно.",
    "permission_denied": "Недостаточно прав.",
    "conflict": "Действие противоречит текущему состоянию: обновите страницу.",
    "insufficient_points": "Недостаточно баллов на счёте.",
    "idempotency_conflict": (
        "Эта форма уже была отправлена с другими данными. Обновите страницу и попробуйте снова."
    ),
    "already_resolved": "Этот резерв баллов уже закрыт.",
    "duplicate_accrual": "Баллы за этот заказ уже начислены.",
    "already_exists": "Такая запись уже есть.",
    "no_program": "Программа лояльности ещё не выбрана.",
    "confirmation_needed": "Нужно подтверждение клиента: отправьте ему код.",
    "confirmation_unusable": "Код подтверждения не подходит: отправьте новый.",
    "too_many_codes": "Этому клиенту отправлено слишком много кодов: попробуйте позже.",
    "own_account": "Владелец не может так изменить свою учётную запись.",
    "abuse_blocked": "Действие заблокировано: превышен лимит операций.",
    "invalid_reason": "Напишите причину понятнее: от 10 до 500 символов.",
    "approval_required": "Такую корректировку одобряет владелец.",
    "request_too_large": "Слишком большой запрос.",
    "invalid_json": "Тело запроса — не JSON.",
    "customer_not_active": "Аккаунт клиента удалён или заблокирован: баллы не меняются.",
}

_CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
_NBSP = "\u00a0"


def _ru_value(value: Any) -> Any:
    """Large whole numbers grouped the Russian way: 1000000 -> "1 000 000"."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:,}".replace(",", _NBSP)
    return value


def _by_code(error: DomainError) -> str | None:
    """The fallback for the error's code, else for the nearest parent class's code."""
    if error.code in RU_BY_CODE:  # an instance may carry its own (TooManyCodes does)
        return RU_BY_CODE[error.code]
    for cls in type(error).__mro__:
        code = vars(cls).get("code")
        if isinstance(code, str) and code in RU_BY_CODE:
            return RU_BY_CODE[code]
    return None


def message(error: DomainError, lang: str) -> str:
    """The error's message in ``lang``: Russian for "ru…", English otherwise.

    Russian: the catalog's template with the error's params; else the code's
    fallback; else English. Messages already written in Russian (the program
    form's) are shown as they are.
    """
    if not lang.lower().startswith("ru") or _CYRILLIC.search(error.template):
        return error.message
    template = RU.get(error.template)
    if template is not None:
        try:
            return template.format(**{k: _ru_value(v) for k, v in error.params.items()})
        except (KeyError, IndexError, ValueError):
            pass
    return _by_code(error) or error.message
