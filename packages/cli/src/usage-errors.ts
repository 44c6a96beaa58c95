/**
 * Commander's own errors for a mistyped command line ("error: unknown command 'x'", a missing
 * argument…) in the person's language. Commander builds those sentences in English inside
 * `Command` methods that each receive the typed facts (the option, the argument's name, the unknown
 * word) and call `this.error(message, { code })`; here those methods are replaced, for every
 * command, by ones that word the same facts through the catalogue (`cli.usage.*`) and keep
 * commander's codes and exit status. In English nothing is replaced: commander's sentences, with
 * its "Did you mean …?" suggestions, are the catalogue's English.
 */
import { Command, type Option } from "commander";
import { currentLanguage, tr } from "./i18n.js";

type Fail = (this: Command, message: string, code: string) => never;
const fail: Fail = function (message, code) {
  return this.error(message, { code });
};

interface UsageMethods {
  missingArgument(name: string): void;
  optionMissingArgument(option: Option): void;
  missingMandatoryOptionValue(option: Option): void;
  unknownOption(flag: string): void;
  unknownCommand(): void;
  _excessArguments(received: string[]): void;
}

let installed = false;

export function localizeUsageErrors(): void {
  if (installed || currentLanguage() === "en") return;
  installed = true;
  const proto = Command.prototype as unknown as UsageMethods & {
    _allowUnknownOption: boolean;
    _allowExcessArguments: boolean;
    args: string[];
    registeredArguments: unknown[];
  };
  const original = {
    unknownOption: proto.unknownOption,
    excess: proto._excessArguments,
  };
  proto.missingArgument = function (this: Command, name: string) {
    fail.call(this, tr("cli.usage.missingArgument", { name }), "commander.missingArgument");
  };
  proto.optionMissingArgument = function (this: Command, option: Option) {
    fail.call(
      this,
      tr("cli.usage.optionMissingArgument", { flags: option.flags }),
      "commander.optionMissingArgument",
    );
  };
  proto.missingMandatoryOptionValue = function (this: Command, option: Option) {
    fail.call(
      this,
      tr("cli.usage.missingMandatoryOption", { flags: option.flags }),
      "commander.missingMandatoryOptionValue",
    );
  };
  proto.unknownOption = function (this: Command & { _allowUnknownOption: boolean }, flag: string) {
    if (this._allowUnknownOption) return original.unknownOption.call(this, flag);
    fail.call(this, tr("cli.usage.unknownOption", { flag }), "commander.unknownOption");
  };
  proto.unknownCommand = function (this: Command) {
    fail.call(this, tr("cli.usage.unknownCommand", { name: this.args[0] ?? "" }), "commander.unknownCommand");
  };
  proto._excessArguments = function (this: Command & { _allowExcessArguments: boolean }, received: string[]) {
    if (this._allowExcessArguments) return original.excess.call(this, received);
    fail.call(
      this,
      tr("cli.usage.excessArguments", {
        command: this.name(),
        count: this.registeredArguments.length,
        got: received.length,
      }),
      "commander.excessArguments",
    );
  };
}
