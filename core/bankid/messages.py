"""BankID's recommended user messages (RFA1-RFA23) and which one to show when.

Texts as published in BankID's Relying Party Guidelines and carried by open-source integrations
(ljsystem/bankid, swedenconnect/bankid-saml-idp, ActiveLogin). BankID asks relying parties to show
these rather than their own wording, so users see the same sentence everywhere. The "A" variants
speak of a computer, the "B" variants of a phone or tablet.
"""

from __future__ import annotations

_INSTALL = "https://install.bankid.com"

MESSAGES: dict[str, dict[str, str]] = {
    "RFA1": {"sv": "Starta BankID-appen.", "en": "Start your BankID app."},
    "RFA2": {"sv": "Du har inte BankID-appen installerad. Kontakta din bank.",
             "en": "The BankID app is not installed. Please contact your bank."},
    "RFA3": {"sv": "Åtgärden avbruten. Försök igen.", "en": "Action cancelled. Please try again."},
    "RFA4": {"sv": "En identifiering eller underskrift för det här personnumret är redan påbörjad. "
                   "Försök igen.",
             "en": "An identification or signing for this personal number is already started. "
                   "Please try again."},
    "RFA5": {"sv": "Internt tekniskt fel. Försök igen.", "en": "Internal error. Please try again."},
    "RFA6": {"sv": "Åtgärden avbruten.", "en": "Action cancelled."},
    "RFA8": {"sv": "BankID-appen svarar inte. Kontrollera att den är startad och att du har "
                   "internetanslutning. Om du inte har något giltigt BankID kan du skaffa ett hos din "
                   "bank. Försök sedan igen.",
             "en": "The BankID app is not responding. Please check that it is started and that you "
                   "have internet access. If you don't have a valid BankID you can get one from your "
                   "bank. Try again."},
    "RFA9": {"sv": "Skriv in din säkerhetskod i BankID-appen och välj Identifiera eller Skriv under.",
             "en": "Enter your security code in the BankID app and select Identify or Sign."},
    "RFA13": {"sv": "Försöker starta BankID-appen.", "en": "Trying to start your BankID app."},
    "RFA14A": {"sv": "Söker efter BankID, det kan ta en liten stund … Om det har gått några sekunder "
                     "och inget BankID har hittats har du sannolikt inget BankID som går att använda "
                     "för den aktuella identifieringen/underskriften i den här datorn. Om du har ett "
                     "BankID-kort, sätt in det i kortläsaren. Om du inte har något BankID kan du skaffa "
                     "ett hos din bank. Om du har ett BankID på en annan enhet kan du starta din "
                     "BankID-app där.",
               "en": "Searching for BankID, it may take a little while … If a few seconds have passed "
                     "and still no BankID has been found, you probably don't have a BankID which can be "
                     "used for this identification/signing on this computer. If you have a BankID card, "
                     "please insert it into your card reader. If you don't have a BankID you can get "
                     "one from your bank. If you have a BankID on another device you can start the "
                     "BankID app on that device."},
    "RFA14B": {"sv": "Söker efter BankID, det kan ta en liten stund … Om det har gått några sekunder "
                     "och inget BankID har hittats har du sannolikt inget BankID som går att använda "
                     "för den aktuella identifieringen/underskriften i den här enheten. Om du inte har "
                     "något BankID kan du skaffa ett hos din bank. Om du har ett BankID på en annan "
                     "enhet kan du starta din BankID-app där.",
               "en": "Searching for BankID, it may take a little while … If a few seconds have passed "
                     "and still no BankID has been found, you probably don't have a BankID which can be "
                     "used for this identification/signing on this device. If you don't have a BankID "
                     "you can get one from your bank. If you have a BankID on another device you can "
                     "start the BankID app on that device."},
    "RFA15A": {"sv": "Söker efter BankID, det kan ta en liten stund … Om det har gått några sekunder "
                     "och inget BankID har hittats har du sannolikt inget BankID som går att använda "
                     "för den aktuella identifieringen/underskriften i den här datorn. Om du har ett "
                     "BankID-kort, sätt in det i kortläsaren. Om du inte har något BankID kan du skaffa "
                     "ett hos din bank.",
               "en": "Searching for BankID, it may take a little while … If a few seconds have passed "
                     "and still no BankID has been found, you probably don't have a BankID which can be "
                     "used for this identification/signing on this computer. If you have a BankID card, "
                     "please insert it into your card reader. If you don't have a BankID you can get "
                     "one from your bank."},
    "RFA15B": {"sv": "Söker efter BankID, det kan ta en liten stund … Om det har gått några sekunder "
                     "och inget BankID har hittats har du sannolikt inget BankID som går att använda "
                     "för den aktuella identifieringen/underskriften i den här enheten. Om du inte har "
                     "något BankID kan du skaffa ett hos din bank.",
               "en": "Searching for BankID, it may take a little while … If a few seconds have passed "
                     "and still no BankID has been found, you probably don't have a BankID which can be "
                     "used for this identification/signing on this device. If you don't have a BankID "
                     "you can get one from your bank."},
    "RFA16": {"sv": "Det BankID du försöker använda är för gammalt eller spärrat. Använd ett annat "
                    "BankID eller skaffa ett nytt hos din bank.",
              "en": "The BankID you are trying to use is blocked or too old. Please use another BankID "
                    "or get a new one from your bank."},
    "RFA17A": {"sv": "BankID-appen verkar inte finnas i din dator eller telefon. Installera den och "
                     f"skaffa ett BankID hos din bank. Installera appen från din appbutik eller {_INSTALL}.",
               "en": "The BankID app couldn't be found on your computer or mobile device. Please "
                     "install it and get a BankID from your bank. Install the app from your app store "
                     f"or {_INSTALL}."},
    "RFA17B": {"sv": "Misslyckades att läsa av QR-koden. Starta BankID-appen och läs av QR-koden. "
                     "Kontrollera att BankID-appen är uppdaterad. Om du inte har BankID-appen måste du "
                     "installera den och skaffa ett BankID hos din bank. Installera appen från din "
                     f"appbutik eller {_INSTALL}.",
               "en": "Failed to scan the QR code. Start the BankID app and scan the QR code. Check that "
                     "the BankID app is up to date. If you don't have the BankID app, you need to "
                     "install it and get a BankID from your bank. Install the app from your app store "
                     f"or {_INSTALL}."},
    "RFA18": {"sv": "Starta BankID-appen", "en": "Start the BankID app"},
    "RFA19": {"sv": "Vill du identifiera dig eller skriva under med BankID på den här datorn eller "
                    "med ett Mobilt BankID?",
              "en": "Would you like to identify yourself or sign with a BankID on this computer, or "
                    "with a Mobile BankID?"},
    "RFA20": {"sv": "Vill du identifiera dig eller skriva under med ett BankID på den här enheten "
                    "eller med ett BankID på en annan enhet?",
              "en": "Would you like to identify yourself or sign with a BankID on this device, or with "
                    "a BankID on another device?"},
    "RFA21": {"sv": "Identifiering eller underskrift pågår.",
              "en": "Identification or signing in progress."},
    "RFA22": {"sv": "Okänt fel. Försök igen.", "en": "Unknown error. Please try again."},
    "RFA23": {"sv": "Fotografera och läs av din ID-handling med BankID-appen.",
              "en": "Process your machine-readable travel document using the BankID app."},
}

_PENDING = {"outstandingTransaction": "RFA1", "noClient": "RFA1", "userSign": "RFA9",
            "userMrtd": "RFA23", "userCallConfirm": "RFA21"}
_FAILED = {"userCancel": "RFA6", "expiredTransaction": "RFA8", "certificateErr": "RFA16",
           "cancelled": "RFA3", "userDeclinedCall": "RFA3", "notSupportedByUserApp": "RFA3"}
_ERRORS = {"alreadyInProgress": "RFA4", "internalError": "RFA5", "maintenance": "RFA5",
           "requestTimeout": "RFA5", "connectionError": "RFA5"}


def rfa_for(status: str | None, hint_code: str | None = None, error_code: str | None = None,
            same_device: bool = False) -> str | None:
    """Which RFA message fits; None for a completed order. Unknown codes get the generic ones."""
    if error_code:
        return _ERRORS.get(error_code, "RFA22")
    if status == "complete":
        return None
    if status == "pending":
        return _pending(hint_code, same_device)
    if status == "failed" and hint_code == "startFailed":
        return "RFA17A" if same_device else "RFA17B"
    return _FAILED.get(hint_code or "", "RFA22")


def _pending(hint_code: str | None, same_device: bool) -> str:
    if hint_code == "outstandingTransaction" and same_device:
        return "RFA13"
    if hint_code == "started":
        return "RFA15B" if same_device else "RFA14B"
    return _PENDING.get(hint_code or "", "RFA21")


def message_for(status: str | None, hint_code: str | None = None, error_code: str | None = None,
                same_device: bool = False, language: str = "sv") -> str | None:
    """The recommended message in Swedish (`sv*`) or English (anything else); None when complete."""
    rfa = rfa_for(status, hint_code, error_code, same_device)
    if rfa is None:
        return None
    return MESSAGES[rfa]["sv" if (language or "").lower().startswith("sv") else "en"]
