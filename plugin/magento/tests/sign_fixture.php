<?php
/**
 * Treue loyalty module for Magento 2.
 *
 * Contract fixture: signs a body with Model/Signer.php, without Magento, and
 * prints the three Standard Webhooks headers as a JSON object. Treue's Go test
 * (plugin/magento/contract_test.go) verifies the output independently.
 *
 * Usage: php sign_fixture.php SECRET ID TIMESTAMP BODY_FILE
 */
declare(strict_types=1);

require __DIR__ . '/../Model/Signer.php';

use Treue\Loyalty\Model\Signer;

if ($argc !== 5) {
    fwrite(STDERR, "usage: php sign_fixture.php SECRET ID TIMESTAMP BODY_FILE\n");
    exit(2);
}
[, $secret, $id, $timestamp, $bodyFile] = $argv;
if (preg_match('/^\d{1,12}$/', $timestamp) !== 1) {
    fwrite(STDERR, "sign_fixture: TIMESTAMP must be Unix seconds\n");
    exit(2);
}
$body = file_get_contents($bodyFile);
if ($body === false) {
    fwrite(STDERR, "sign_fixture: cannot read $bodyFile\n");
    exit(1);
}
try {
    $headers = (new Signer($secret))->headers($id, (int) $timestamp, $body);
    echo json_encode($headers, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR), "\n";
} catch (\InvalidArgumentException $e) {
    fwrite(STDERR, $e->getMessage() . "\n");
    exit(1);
}
